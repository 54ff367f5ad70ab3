import { ForbiddenException } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { Redis } from 'ioredis';
import passport from 'passport';
import request from 'supertest';
import { InvalidTenantSessionOptionsError } from 'nestjs-tenant-session';
import {
  createPassportFirstClassApp,
  directory,
  LAYOUTS,
  type PassportFirstClassApp,
} from '../support/passport-first-class-app.js';
import { Visitor } from '../support/visitor.js';

const APP = 'passport-first';
const NOT_BEFORE = '!not-before';

type Traced = Request & { ran?: string[] };

/** A middleware that notes, on the request, that it ran and whether the session was there. */
const trace =
  (name: string): RequestHandler =>
  (req: Traced, _res: Response, next: NextFunction) => {
    (req.ran ??= []).push(`${name}:${req.session ? 'session' : 'no session'}`);
    next();
  };

describe('passport, first class: passport.session() in afterSession, right after the tenant session', () => {
  let redis: Redis;
  let p: PassportFirstClassApp | undefined;

  beforeAll(() => {
    redis = new Redis(process.env.TEST_REDIS_URL!);
  });
  afterAll(() => redis.disconnect());
  beforeEach(async () => {
    directory.reset();
    const keys = await redis.keys(`sessions*:*:${APP}:*`);
    if (keys.length > 0) await redis.del(...keys);
  });
  afterEach(async () => {
    await p?.close();
    p = undefined;
  });

  const start = async (...args: Parameters<typeof createPassportFirstClassApp>) => {
    p = await createPassportFirstClassApp(...args);
    return p;
  };
  const sessionKey = (sid: string | undefined) => `sessions:acme:${APP}:${sid}`;
  const indexed = async (user: string) =>
    (await redis.zrange(`sessions-index:acme:${APP}:${user}`, '0', '-1'))
      .filter((member) => member !== NOT_BEFORE)
      .sort();
  const stored = async (sid: string | undefined) =>
    JSON.parse((await redis.get(sessionKey(sid))) ?? 'null') as Record<string, unknown> | null;
  const passportLogin = async (username: string, agent = 'jest-visitor') => {
    const browser = new Visitor(p!.http, 'acme.test', agent);
    const res = await browser.post('/auth/login', { username, password: `${username}-pass` });
    expect(res.status).toBe(201);
    expect(browser.sessionId()).toBeDefined();
    return browser;
  };

  describe.each(LAYOUTS)('module layout: %s', (layout) => {
    it('passport.session() runs on every request, and a user deleted after login is refused', async () => {
      await start({ appName: APP }, { layout });
      const alice = await passportLogin('alice');
      const bob = await passportLogin('bob');

      // req.user is set: passport.session() deserialized the user on this request.
      expect((await alice.get('/profile')).body).toEqual({
        username: 'alice',
        identity: 'u-alice',
      });
      expect(await indexed('u-alice')).toEqual([alice.sessionId()]);

      directory.remove('u-alice');

      const refused = await alice.get('/profile');
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ statusCode: 401, message: 'Login required' });
      expect(await indexed('u-alice')).toEqual([]);
      expect((await bob.get('/profile')).body).toEqual({ username: 'bob', identity: 'u-bob' });
    });
  });

  it('login, guard, list, revokeAll and logout work with passport-local and nothing passport-related in main.ts', async () => {
    await start({ appName: APP });
    const anonymous = new Visitor(p!.http, 'acme.test');
    expect((await anonymous.get('/profile')).status).toBe(401);
    const wrong = await anonymous.post('/auth/login', { username: 'alice', password: 'nope' });
    expect(wrong.status).toBe(401);
    expect(anonymous.sessionId()).toBeUndefined();

    const laptop = await passportLogin('alice', 'laptop');
    const phone = await passportLogin('alice', 'phone');
    const bob = await passportLogin('bob');
    expect((await laptop.get('/profile')).body).toEqual({ username: 'alice', identity: 'u-alice' });
    expect((await phone.get('/profile')).status).toBe(200);

    // list: both of alice's logins, under passport's user id, each one's own entry marked.
    const listed = (await p!.sessions.list('acme', 'u-alice')).sessions;
    expect(listed.map((s) => s.userAgent).sort()).toEqual(['laptop', 'phone']);
    const mine = (await phone.get('/sessions')).body as { current: boolean; userAgent: string }[];
    expect(mine.filter((s) => s.current).map((s) => s.userAgent)).toEqual(['phone']);

    // revokeAll: every alice browser is out at once, bob is not.
    expect(await p!.sessions.revokeAll('acme', 'u-alice')).toBe(2);
    expect((await laptop.get('/profile')).status).toBe(401);
    expect((await phone.get('/profile')).status).toBe(401);
    expect(await redis.exists(sessionKey(laptop.sessionId()))).toBe(0);
    expect(await indexed('u-alice')).toEqual([]);
    expect((await bob.get('/profile')).status).toBe(200);

    // logout through req.logout(), which exists because passport.session() ran.
    const again = await passportLogin('alice', 'again');
    const loggedOutSid = again.sessionId();
    expect((await again.post('/auth/logout')).status).toBe(201);
    expect(again.sessionId()).not.toBe(loggedOutSid);
    expect(await redis.exists(sessionKey(loggedOutSid))).toBe(0);
    expect(await indexed('u-alice')).toEqual([]);
    expect((await again.get('/profile')).status).toBe(401);
    expect((await again.get('/open')).body).toMatchObject({
      username: null,
      authenticated: false,
    });
  });

  it('a user whose deserializeUser returns false is refused: passport leaves `passport: {}`, the session is unindexed and names nobody', async () => {
    const revoked: unknown[] = [];
    await start({ appName: APP, onRevoked: (e) => void revoked.push(e) });
    const alice = await passportLogin('alice');
    const sid = alice.sessionId();
    expect(Object.keys((await stored(sid))!).sort()).toEqual(['_owner', 'cookie', 'passport']);

    directory.remove('u-alice');

    // An open route: the request goes on, anonymous, and the session loses its user.
    expect((await alice.get('/open')).body).toMatchObject({
      username: null,
      authenticated: false,
    });
    const after = (await stored(sid))!;
    expect(after.passport).toEqual({});
    expect(after._owner).toBeUndefined();
    expect(await indexed('u-alice')).toEqual([]);
    expect((await p!.sessions.list('acme', 'u-alice')).sessions).toEqual([]);
    expect((await alice.get('/profile')).status).toBe(401);
    expect((await alice.get('/sessions')).status).toBe(401);

    // The user coming back to the directory does not revive that session: it names nobody now.
    directory.reset();
    expect((await alice.get('/profile')).status).toBe(401);
    const relogged = await passportLogin('alice');
    expect((await relogged.get('/profile')).status).toBe(200);
    // A deleted user is not a revocation: nothing was revoked, no not-before was recorded.
    expect(revoked).toEqual([]);
  });

  it('without passport.session(), session.passport.user stays the identity: a deleted user is let in until revoked', async () => {
    await start({ appName: APP, afterSession: [] });
    const alice = await passportLogin('alice');

    directory.remove('u-alice');

    // Nothing asked the directory: req.user is unset, the session still names u-alice.
    expect((await alice.get('/profile')).body).toEqual({ username: null, identity: 'u-alice' });
    expect(await p!.sessions.revokeAll('acme', 'u-alice')).toBe(1);
    expect((await alice.get('/profile')).status).toBe(401);
  });

  it('afterSession middleware run in order, after the session is loaded, only on the routes the module covers', async () => {
    await start({
      appName: APP,
      afterSession: [trace('first'), passport.session(), trace('second')],
    });
    const alice = await passportLogin('alice');

    expect((await alice.get('/open')).body).toEqual({
      username: 'alice',
      authenticated: true,
      ran: ['first:session', 'second:session'],
    });
    // `exclude: ['health']`: no tenant, no session, no afterSession; reachable by IP address.
    const health = await request(p!.http).get('/health').set('Host', '127.0.0.1');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ session: false, ran: [] });
    const byIp = await request(p!.http).get('/open').set('Host', '127.0.0.1');
    expect(byIp.status).toBe(404);
    expect(byIp.body).toMatchObject({ error: 'Unknown Tenant' });
  });

  it("errors from afterSession middleware reach Nest's exception layer and are answered as JSON", async () => {
    // Read from the headers: on Fastify, afterSession gets the Node request, without get().
    const failing: RequestHandler = (req, _res, next) => {
      const mode = req.headers['x-fail'];
      if (mode === 'http') throw new ForbiddenException('Not from here');
      if (mode === 'async') return Promise.reject(new Error('async failure'));
      if (mode === 'next') return next(new Error('handed to next'));
      next();
    };
    await start({ appName: APP, afterSession: [passport.session(), failing] });
    const alice = await passportLogin('alice');
    const send = (mode: string) =>
      request(p!.http)
        .get('/open')
        .set('Host', 'acme.test')
        .set('Cookie', alice.cookieHeader)
        .set('x-fail', mode);

    const forbidden = await send('http');
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toMatchObject({ statusCode: 403, message: 'Not from here' });
    for (const mode of ['async', 'next']) {
      const res = await send(mode);
      expect(res.status).toBe(500);
      expect(res.type).toBe('application/json');
      expect(res.body).toEqual({ statusCode: 500, message: 'Internal server error' });
    }
    // passport.session()'s own failure (deserializeUser erring) is passed to next: 500 JSON too.
    directory.failingId = 'u-alice';
    const deserializeFailed = await alice.get('/open');
    expect(deserializeFailed.status).toBe(500);
    expect(deserializeFailed.body).toEqual({ statusCode: 500, message: 'Internal server error' });
    // Nothing was lost: the session and its index entry are intact once the directory is back.
    directory.failingId = undefined;
    expect((await alice.get('/profile')).body).toEqual({ username: 'alice', identity: 'u-alice' });
    expect(await indexed('u-alice')).toEqual([alice.sessionId()]);
  });

  it.each([
    ['a single function', passport.session()],
    ['an array holding a string', ['passport']],
  ])('refuses afterSession given %s at start-up', async (_, afterSession) => {
    await expect(
      createPassportFirstClassApp({
        appName: APP,
        afterSession: afterSession as unknown as RequestHandler[],
      }),
    ).rejects.toThrow(InvalidTenantSessionOptionsError);
  });
});
