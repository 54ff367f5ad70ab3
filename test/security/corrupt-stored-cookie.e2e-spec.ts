import { Body, Controller, Get, Post, Req, Res, type LoggerService } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Redis } from 'ioredis';
import { SessionLoginService } from 'nestjs-tenant-session';
import request from 'supertest';
import { MAX_SESSION_AGE_SECONDS } from '../../lib/options/session-age-limit.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { testPlatform } from '../support/testing-app.js';

/**
 * Issue 18, item 8, as the security review reproduced it against 0.4.1: a stored session whose
 * cookie express-session cannot serialize crashed the process or left requests unanswered, and
 * so did a login with a max-age no cookie can carry. Now a stored value is valid or corrupt
 * (corrupt: no session), a bad argument is an error at the call, and whatever throws while a
 * response is committed ends that response (500 JSON, no session cookie) without escaping it.
 */

const APP = 'corruptcookie';
/** Every request must be answered within this, or it hung. */
const ANSWER_LIMIT_MS = 3000;

/** Every line any Nest logger wrote while this file ran, as text. */
class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log = (...args: unknown[]) => this.record('log', args);
  error = (...args: unknown[]) => this.record('error', args);
  warn = (...args: unknown[]) => this.record('warn', args);
  debug = (...args: unknown[]) => this.record('debug', args);
  verbose = (...args: unknown[]) => this.record('verbose', args);
  fatal = (...args: unknown[]) => this.record('fatal', args);

  private record(level: string, args: unknown[]): void {
    this.lines.push([level, ...args.map((arg) => String(arg))].join(' '));
  }
}

/** Routes that misuse the API the ways the review did, and report what the call threw. */
@Controller()
class MisuseController {
  constructor(private readonly logins: SessionLoginService) {}

  /** A login with the options given ("Infinity", "NaN" as strings: JSON has no such numbers). */
  @Post('login-with')
  async loginWith(
    @Req() req: Request,
    @Body() body: { user: string; idleTtl?: unknown; absoluteLifetime?: unknown; data?: object },
  ) {
    const number = (value: unknown) => (typeof value === 'string' ? Number(value) : value);
    try {
      await this.logins.login(req, body.user, {
        idleTtl: number(body.idleTtl) as number | undefined,
        absoluteLifetime: number(body.absoluteLifetime) as number | undefined,
        data: body.data ?? { user: body.user },
      });
      return { user: body.user };
    } catch (error) {
      return { error: (error as Error).name, message: (error as Error).message };
    }
  }

  /** The application breaks its own session cookie: serializing it throws as the answer ends. */
  @Post('break-cookie')
  breakCookie(@Req() req: Request, @Body() body: { domain?: string; sameSite?: string }) {
    Object.assign(req.session.cookie, body);
    req.session.visits = 1;
    return { ok: true };
  }

  /** The same, on a response that sends its headers before it ends. */
  @Post('break-cookie-streamed')
  breakCookieStreamed(@Req() req: Request, @Res() res: Response) {
    (req.session.cookie as { sameSite: unknown }).sameSite = 'bogus';
    req.session.visits = 1;
    res.status(200).write('first part;');
    res.end('last part');
  }

  /** Session data no JSON can hold: storing it throws as the answer ends. */
  @Post('unserializable')
  unserializable(@Req() req: Request) {
    (req.session as unknown as Record<string, unknown>).big = BigInt(1);
    return { ok: true };
  }

  @Get('alive')
  alive() {
    return { ok: true };
  }
}

describe('a stored session express-session cannot serialize, a bad argument, a failing commit (issue 18, item 8)', () => {
  const logger = new CapturingLogger();
  let t: TestApp;
  let redis: Redis;

  beforeAll(async () => {
    t = await createTestApp({ appName: APP }, { logger, controllers: [MisuseController] });
    redis = new Redis(process.env.TEST_REDIS_URL!);
  });
  afterAll(async () => {
    redis?.disconnect();
    await t?.close();
  });

  /** A request from `cookie`'s browser on acme, which must be answered in time. */
  const send = (method: 'get' | 'post', path: string, cookie?: string, body?: object) => {
    const req = request(t.http)[method](path).set('Host', 'acme.test');
    if (cookie) req.set('Cookie', cookie);
    if (body) req.send(body);
    return req.timeout({ deadline: ANSWER_LIMIT_MS });
  };
  const setCookies = (res: request.Response) =>
    ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  /** The random part of every session id this file handed out: no log line may hold one. */
  const handedOut = new Set<string>();
  const sessionIdOf = (cookie: string) => {
    const signed = decodeURIComponent(cookie.slice('sid='.length)).slice(2);
    const sid = signed.slice(0, signed.lastIndexOf('.'));
    handedOut.add(sid.slice(0, 32));
    return sid;
  };
  /** Logs `user` in; the `sid=…` pair its browser sends from now on. */
  const login = async (user: string) => {
    const res = await send('post', '/login', undefined, { user });
    expect(res.status).toBe(201);
    const cookie = setCookies(res)[0].split(';')[0];
    sessionIdOf(cookie);
    return cookie;
  };

  afterAll(() => {
    const lines = logger.lines.join('\n');
    expect([...handedOut].filter((sid) => lines.includes(sid))).toEqual([]);
  });
  const sessionKey = (cookie: string) => `sessions:acme:${APP}:${sessionIdOf(cookie)}`;

  describe("the review's stored values are corrupt: no session, and the process serves on", () => {
    it.each([
      ['originalMaxAge 9e15', '{"cookie":{"originalMaxAge":9e15},"passport":{"user":"alice"}}'],
      ['originalMaxAge 1e308', '{"cookie":{"originalMaxAge":1e308},"passport":{"user":"alice"}}'],
      [
        'a path with a control character',
        JSON.stringify({ cookie: { originalMaxAge: 3_600_000, path: '/\u0001' }, user: 'alice' }),
      ],
      ['domain "a b"', '{"cookie":{"originalMaxAge":3600000,"domain":"a b"},"user":"alice"}'],
      [
        'sameSite "bogus"',
        '{"cookie":{"originalMaxAge":3600000,"sameSite":"bogus"},"user":"alice"}',
      ],
      [
        'originalMaxAge "x" with expires "garbage"',
        '{"cookie":{"originalMaxAge":"x","expires":"garbage"},"user":"alice"}',
      ],
    ])('%s', async (_, value) => {
      const cookie = await login('alice');
      expect((await send('get', '/me', cookie)).status).toBe(200);

      await redis.set(sessionKey(cookie), value, 'KEEPTTL');

      // Every GET answered (they hung), and so does the write that followed (it killed the app).
      for (let i = 0; i < 2; i++) {
        const me = await send('get', '/me', cookie);
        expect(me.status).toBe(401);
        expect(setCookies(me)).toEqual([]);
      }
      expect((await send('post', '/increment', cookie)).status).toBe(401);
      const visit = await send('post', '/visit', cookie);
      expect(visit.status).toBe(201);
      expect(visit.body).toEqual({ tenant: 'acme', visits: 1 });
      expect((await send('get', `/me`, await login('bob'))).body).toMatchObject({ user: 'bob' });
    });

    it('warns about corrupt data (no log line of this file names a session: afterAll)', () => {
      expect(logger.lines.some((line) => /^warn .*corrupt session data/i.test(line))).toBe(true);
    });
  });

  describe('login options no cookie or Redis TTL can carry are a TypeError at the call', () => {
    it.each([
      ['idleTtl 1e16', { idleTtl: 1e16 }],
      ['idleTtl 0', { idleTtl: 0 }],
      ['idleTtl -1000', { idleTtl: -1000 }],
      ['idleTtl NaN', { idleTtl: 'NaN' }],
      ['idleTtl Infinity', { idleTtl: 'Infinity' }],
      ['idleTtl a string', { idleTtl: '1h' }],
      ['idleTtl 0.5', { idleTtl: 0.5 }],
      ['absoluteLifetime 1e16 s', { absoluteLifetime: 1e16 }],
      ['absoluteLifetime 0.5 s', { absoluteLifetime: 0.5 }],
      ['data with a cookie', { data: { cookie: { maxAge: 1e16 } } }],
      ['data replacing a session method', { data: { save: 1 } }],
    ])("%s: nothing is written, the caller's session stays", async (_, options) => {
      const cookie = await login('dave');
      const keysBefore = (await redis.keys(`*:${APP}:*`)).sort();

      const res = await send('post', '/login-with', cookie, { user: 'erin', ...options });

      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ error: 'TypeError' });
      expect((await redis.keys(`*:${APP}:*`)).sort()).toEqual(keysBefore);
      expect((await send('get', '/me', cookie)).body).toMatchObject({ user: 'dave' });
    });

    it('a route that lets the TypeError through answers 500 at once (it never answered)', async () => {
      const res = await send('post', '/login', undefined, { user: 'frank', idleTtl: 1e16 });

      expect(res.status).toBe(500);
      expect(setCookies(res)).toEqual([]);
      expect((await send('get', '/alive')).status).toBe(200);
    });

    it('the largest max-age and lifetime allowed log in', async () => {
      const res = await send('post', '/login-with', undefined, {
        user: 'grace',
        idleTtl: MAX_SESSION_AGE_SECONDS,
        absoluteLifetime: MAX_SESSION_AGE_SECONDS,
      });

      expect(res.body).toEqual({ user: 'grace' });
      const cookie = setCookies(res)[0].split(';')[0];
      expect((await send('get', '/me', cookie)).body).toMatchObject({ user: 'grace' });
    });
  });

  describe('whatever throws while committing a response ends that response', () => {
    it.each([
      ['an invalid domain', { domain: 'a b' }],
      ['an invalid sameSite', { sameSite: 'bogus' }],
    ])(
      'a session cookie the app made unserializable (%s): 500 JSON without request data, no cookie',
      async (_, attributes) => {
        const cookie = await login('heidi');

        const res = await send('post', '/break-cookie', cookie, attributes);

        expect(res.status).toBe(500);
        expect(res.body).toEqual({ statusCode: 500, message: 'Internal Server Error' });
        expect(setCookies(res)).toEqual([]);
        expect((await send('get', '/alive')).status).toBe(200);
      },
    );

    it('logs each kind of failed commit once per interval, however often, naming no session', async () => {
      const cookie = await login('heidi');
      for (let i = 0; i < 3; i++) {
        expect((await send('post', '/break-cookie', cookie, { domain: 'a b' })).status).toBe(500);
      }

      const failures = logger.lines.filter((line) =>
        /^error Committing a session failed/.test(line),
      );
      expect(failures.sort()).toEqual([
        expect.stringMatching(/\(TypeError: option domain is invalid\): answered without/),
        expect.stringMatching(/\(TypeError: option sameSite is invalid\): answered without/),
      ]);
    });

    // Express only: a Fastify reply's headers never go out before its onSend hook, where the
    // commit runs (a reply written around Fastify, on reply.raw, skips it: docs/fastify.md).
    if (testPlatform() === 'express') {
      it('a response whose headers went out first ends as the app wrote it, without the cookie', async () => {
        const cookie = await login('ivan');

        const res = await send('post', '/break-cookie-streamed', cookie);

        expect(res.status).toBe(200);
        expect(res.text).toBe('first part;last part');
        expect(setCookies(res)).toEqual([]);
        expect((await send('get', '/alive')).status).toBe(200);
      });
    }

    it('session data the store cannot serialize: 500 JSON, no cookie', async () => {
      const cookie = await login('judy');

      const res = await send('post', '/unserializable', cookie);

      expect(res.status).toBe(500);
      expect(setCookies(res)).toEqual([]);
      expect((await send('get', '/me', cookie)).body).toMatchObject({ user: 'judy' });
    });
  });
});
