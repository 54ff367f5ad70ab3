import { RedisStore } from 'connect-redis';
import type { SessionData } from 'express-session';
import { Redis } from 'ioredis';
import type { SessionRevokedEvent, TenantSessionModuleOptions } from 'nestjs-tenant-session';
import { createPassportApp, type PassportApp } from '../support/passport-app.js';
import { PROVIDER_URL } from '../support/passport-provider.js';
import { LogCapture } from '../support/identity-app.js';
import { testPlatform, type TestPlatform } from '../support/testing-app.js';
import { Visitor } from '../support/visitor.js';

const APP = 'passport';
const NOT_BEFORE = '!not-before';
/** The platform the suite runs on (jest.config.js), and the one an app sharing its Redis runs. */
const PLATFORM = testPlatform();
const OTHER_PLATFORM: TestPlatform = PLATFORM === 'fastify' ? 'express' : 'fastify';

describe('passport logins (@nestjs/passport, passport 0.7, passport-local) with no glue', () => {
  const logs = new LogCapture();
  const seenSids = new Set<string>();
  let redis: Redis;
  let p: PassportApp;

  beforeAll(() => {
    redis = new Redis(process.env.TEST_REDIS_URL!);
  });
  afterAll(() => redis.disconnect());
  beforeEach(async () => {
    const keys = await redis.keys(`sessions*:*:${APP}:*`);
    if (keys.length > 0) await redis.del(...keys);
  });
  afterEach(() => p?.close());

  const start = async (options: Partial<TenantSessionModuleOptions> = {}) => {
    await p?.close();
    p = await createPassportApp({ appName: APP, ...options }, logs);
    return p;
  };
  const sessionKey = (sid: string | undefined) => `sessions:acme:${APP}:${sid}`;
  const indexed = async (user: string) =>
    (await redis.zrange(`sessions-index:acme:${APP}:${user}`, '0', '-1'))
      .filter((member) => member !== NOT_BEFORE)
      .sort();
  const storedSessionKeys = async () => (await redis.keys(`sessions:acme:${APP}:*`)).sort();
  const passportLogin = async (username: string, agent = 'jest-visitor', host = 'acme.test') => {
    const browser = new Visitor(p.http, host, agent);
    const res = await browser.post('/auth/login', { username, password: `${username}-pass` });
    expect(res.status).toBe(201);
    expect(browser.sessionId()).toBeDefined();
    seenSids.add(browser.sessionId()!);
    return browser;
  };

  afterEach(() => {
    // Whatever was logged while passport logged in and out, no line carried a session id.
    const leaks = logs.lines.filter((line) => [...seenSids].some((sid) => line.includes(sid)));
    expect(leaks).toEqual([]);
  });

  it('a passport login is indexed: list() shows it and revokeAll() signs out every browser', async () => {
    await start();
    const laptop = await passportLogin('alice', 'laptop');
    const stolen = await passportLogin('alice', 'stolen-phone');
    const bob = await passportLogin('bob');
    const otherTenant = await passportLogin('alice', 'laptop', 'globex.test');
    expect((await laptop.get('/me')).body).toEqual({ user: 'u-alice', count: 0 });
    expect((await stolen.get('/me')).body).toEqual({ user: 'u-alice', count: 0 });

    const listed = (await p.sessions.list('acme', 'u-alice')).sessions;
    expect(listed.map((s) => s.userAgent).sort()).toEqual(['laptop', 'stolen-phone']);
    expect(await indexed('u-alice')).toEqual([laptop.sessionId(), stolen.sessionId()].sort());

    expect(await p.sessions.revokeAll('acme', 'u-alice')).toBe(2);

    expect((await laptop.get('/me')).status).toBe(401);
    expect((await stolen.get('/me')).status).toBe(401);
    expect(await redis.exists(sessionKey(laptop.sessionId()))).toBe(0);
    expect(await redis.exists(sessionKey(stolen.sessionId()))).toBe(0);
    expect(await indexed('u-alice')).toEqual([]);
    expect((await p.sessions.list('acme', 'u-alice')).sessions).toEqual([]);
    // Only alice, and only in this tenant, was signed out.
    expect((await bob.get('/me')).body).toEqual({ user: 'u-bob', count: 0 });
    expect((await otherTenant.get('/me')).body).toEqual({ user: 'u-alice', count: 0 });
  });

  it('revokeOthers from a passport session keeps only that session', async () => {
    await start();
    const first = await passportLogin('alice', 'first');
    const keeper = await passportLogin('alice', 'keeper');
    const third = await passportLogin('alice', 'third');

    const res = await keeper.post('/sessions/revoke-others');

    expect(res.body).toEqual({ revoked: 2 });
    expect((await keeper.get('/me')).status).toBe(200);
    expect((await first.get('/me')).status).toBe(401);
    expect((await third.get('/me')).status).toBe(401);
    expect(await indexed('u-alice')).toEqual([keeper.sessionId()]);
    expect(await storedSessionKeys()).toEqual([sessionKey(keeper.sessionId())]);
    const mine = (await keeper.get('/sessions')).body as { current: boolean; userAgent: string }[];
    expect(mine).toMatchObject([{ current: true, userAgent: 'keeper' }]);
  });

  it("req.logout() removes the session's index entry and its identity", async () => {
    await start();
    const leaving = await passportLogin('alice', 'leaving');
    const staying = await passportLogin('alice', 'staying');
    const leftSid = leaving.sessionId();
    expect(await indexed('u-alice')).toHaveLength(2);

    expect((await leaving.post('/auth/logout')).status).toBe(201);

    expect(await indexed('u-alice')).toEqual([staying.sessionId()]);
    // passport saved the session without its user, then regenerated it away; express-session
    // stores the fresh session it regenerated (its id changed), which names nobody.
    expect(await redis.exists(sessionKey(leftSid))).toBe(0);
    const fresh = leaving.sessionId();
    seenSids.add(fresh!);
    expect(fresh).not.toBe(leftSid);
    expect(await storedSessionKeys()).toEqual(
      [sessionKey(staying.sessionId()), sessionKey(fresh)].sort(),
    );
    const freshJson = JSON.parse((await redis.get(sessionKey(fresh)))!) as object;
    expect(Object.keys(freshJson)).toEqual(['cookie']);
    expect((await leaving.get('/me')).status).toBe(401);
    expect((await p.sessions.list('acme', 'u-alice')).sessions).toHaveLength(1);
    expect((await staying.get('/me')).body).toEqual({ user: 'u-alice', count: 0 });
  });

  it("the library's login() then passport's logIn leaves only passport's new session, indexed under passport's user", async () => {
    await start();
    const browser = new Visitor(p.http, 'acme.test');

    const res = await browser.post('/auth/login-both', {
      username: 'alice',
      password: 'alice-pass',
    });

    expect(res.status).toBe(201);
    const sid = browser.sessionId()!;
    seenSids.add(sid);
    // The session login() made was regenerated away by passport: deleted and unindexed.
    expect(await storedSessionKeys()).toEqual([sessionKey(sid)]);
    expect(await indexed('alice')).toEqual([]);
    expect(await indexed('u-alice')).toEqual([sid]);
    expect((await browser.get('/me')).body).toEqual({ user: 'u-alice', count: 0 });
    expect((await p.sessions.list('acme', 'alice')).sessions).toEqual([]);
    expect(await p.sessions.revokeAll('acme', 'u-alice')).toBe(1);
    expect((await browser.get('/me')).status).toBe(401);
  });

  it("passport's login regenerates the session: the anonymous session before it is gone, the logged-in one has a new id", async () => {
    await start();
    const browser = new Visitor(p.http, 'acme.test');
    expect((await browser.post('/visit')).body).toEqual({ count: 1 });
    const anonymous = browser.sessionId()!;
    seenSids.add(anonymous);
    expect(await redis.exists(sessionKey(anonymous))).toBe(1);

    const res = await browser.post('/auth/login', { username: 'alice', password: 'alice-pass' });

    expect(res.status).toBe(201);
    const loggedIn = browser.sessionId()!;
    seenSids.add(loggedIn);
    expect(loggedIn).not.toBe(anonymous);
    expect(await storedSessionKeys()).toEqual([sessionKey(loggedIn)]);
    expect(await indexed('u-alice')).toEqual([loggedIn]);
    // The new session starts empty: the anonymous visit's count did not carry over.
    expect((await browser.get('/me')).body).toEqual({ user: 'u-alice', count: 0 });
  });

  it(`a passport login on ${PLATFORM} is the same session on ${OTHER_PLATFORM} sharing the Redis: read, written, logged out there`, async () => {
    await start();
    const other = await createPassportApp({ appName: APP }, logs, OTHER_PLATFORM);
    try {
      const here = await passportLogin('alice', 'laptop');
      const there = here.on(other.http);

      expect((await there.get('/me')).body).toEqual({ user: 'u-alice', count: 0 });
      expect((await there.post('/increment')).body).toEqual({ count: 1 });
      expect((await here.get('/me')).body).toEqual({ user: 'u-alice', count: 1 });
      expect((await other.sessions.list('acme', 'u-alice')).sessions).toHaveLength(1);

      const loggedIn = here.sessionId();
      expect((await there.post('/auth/logout')).status).toBe(201);
      seenSids.add(there.sessionId()!);
      expect(await redis.exists(sessionKey(loggedIn))).toBe(0);
      expect((await here.get('/me')).status).toBe(401);

      // Revoked by the other instance, a new login here is refused on both.
      const again = await passportLogin('alice', 'phone');
      expect(await other.sessions.revokeAll('acme', 'u-alice')).toBe(1);
      expect((await again.get('/me')).status).toBe(401);
      expect((await again.on(other.http).get('/me')).status).toBe(401);
    } finally {
      await other.close();
    }
  });

  it('a strategy that answers with a redirect (OAuth-shaped): the redirect goes out with its state stored, the callback logs in', async () => {
    await start();
    const browser = new Visitor(p.http, 'acme.test');

    const sent = await browser.get('/auth/provider');

    expect(sent.status).toBe(302);
    const location = new URL(sent.headers.location as string);
    expect(`${location.origin}${location.pathname}`).toBe(PROVIDER_URL);
    const state = location.searchParams.get('state')!;
    const before = browser.sessionId()!;
    seenSids.add(before);
    const stored = JSON.parse((await redis.get(sessionKey(before)))!) as Record<string, unknown>;
    expect(stored.providerState).toBe(state);

    expect((await browser.get('/auth/provider/callback?code=alice&state=forged')).status).toBe(401);
    const back = await browser.get(`/auth/provider/callback?code=alice&state=${state}`);

    expect(back.status).toBe(200);
    expect(back.body).toEqual({ user: 'u-alice' });
    seenSids.add(browser.sessionId()!);
    expect(browser.sessionId()).not.toBe(before);
    expect(await indexed('u-alice')).toEqual([browser.sessionId()]);
    expect((await browser.get('/me')).body).toEqual({ user: 'u-alice', count: 0 });
  });

  it('maxSessionsPerUser applies to passport logins: the oldest session is revoked', async () => {
    const events: SessionRevokedEvent[] = [];
    await start({ maxSessionsPerUser: 2, onRevoked: (e) => void events.push(e) });
    const oldest = await passportLogin('alice', 'oldest');
    const middle = await passportLogin('alice', 'middle');
    const newest = await passportLogin('alice', 'newest');

    expect((await oldest.get('/me')).status).toBe(401);
    expect((await middle.get('/me')).status).toBe(200);
    expect((await newest.get('/me')).status).toBe(200);
    expect(await redis.exists(sessionKey(oldest.sessionId()))).toBe(0);
    expect(await indexed('u-alice')).toEqual([middle.sessionId(), newest.sessionId()].sort());
    const listed = (await p.sessions.list('acme', 'u-alice')).sessions;
    expect(listed.map((s) => s.userAgent)).toEqual(['middle', 'newest']);
    expect(events).toMatchObject([
      { tenant: 'acme', userId: 'u-alice', reason: 'cap', revoked: 1 },
    ]);
  });

  it('the session a passport login stores is plain connect-redis JSON, readable and writable by connect-redis', async () => {
    await start();
    const browser = await passportLogin('alice');
    const sid = browser.sessionId()!;
    const plain = new RedisStore({ client: redis, prefix: `sessions:acme:${APP}:` });

    const read = await new Promise<SessionData | null | undefined>((resolve, reject) =>
      plain.get(sid, (err, data) => (err ? reject(err) : resolve(data))),
    );

    // express-session's Cookie takes originalMaxAge from two clock readings: they may be 1 ms apart.
    expect(read).toMatchObject({
      cookie: { originalMaxAge: expect.closeTo(3_600_000, -1), httpOnly: true, path: '/' },
      passport: { user: 'u-alice' },
    });
    const raw = JSON.parse((await redis.get(sessionKey(sid)))!) as Record<string, unknown>;
    expect(Object.keys(raw).sort()).toEqual(['_owner', 'cookie', 'passport']);

    // A plain service writing it back (its own field added) keeps the user logged in and indexed.
    await new Promise<void>((resolve, reject) =>
      plain.set(sid, { ...read!, count: 41 }, (err) => (err ? reject(err) : resolve())),
    );
    expect((await browser.post('/increment')).body).toEqual({ count: 42 });
    expect((await browser.get('/me')).body).toEqual({ user: 'u-alice', count: 42 });
    expect(await p.sessions.revokeAll('acme', 'u-alice')).toBe(1);
    expect((await browser.get('/me')).status).toBe(401);
  });
});
