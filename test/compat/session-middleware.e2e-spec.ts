import { Controller, Post, Req, Res } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Request, Response } from 'express';
import { createHmac } from 'node:crypto';
import { SessionLoginService, TenantSessionModule } from 'nestjs-tenant-session';
import { useOwnRedisServer } from '../support/own-redis.js';
import { startTestingApp, type RunningTestingApp } from '../support/testing-app.js';
import { createTestApp, TEST_HOSTS, TEST_SECRET, type TestApp } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';

/**
 * The module's own session middleware (lib/session/session-middleware.ts, session-commit.ts):
 * where it takes its own path rather than express-session's, the behaviour users know is kept.
 */
const APP = 'session-middleware';
const OLD_SECRET = 'old-secret-0123456789-abcdefghijkl';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ appName: APP });
});
afterAll(() => t?.close());

/**
 * Routes that change only the session cookie's max-age ("remember me" afterwards), so the end
 * of the request owes Redis a TTL restart; the test freezes writes while the handler runs.
 */
@Controller()
class RememberController {
  static whileHandling: () => Promise<unknown> = async () => undefined;

  constructor(private readonly logins: SessionLoginService) {}

  @Post('login')
  async login(@Req() req: Request) {
    await this.logins.login(req, 'erin');
    return {};
  }

  /** Answers, then ends the response once more (code that writes responses by hand does). */
  @Post('end-twice')
  async endTwice(@Req() req: Request, @Res() res: Response) {
    await RememberController.whileHandling();
    (req.session as { visits?: number }).visits = 42;
    res.json({ visits: 42 });
    res.end();
  }

  @Post('remember')
  async remember(@Req() req: Request) {
    req.session.cookie.maxAge = 7200_000;
    await RememberController.whileHandling();
    return { remembered: true };
  }
}

function signedWith(secret: string, sid: string): string {
  const signature = createHmac('sha256', secret).update(sid).digest('base64').replace(/=+$/, '');
  return encodeURIComponent(`s:${sid}.${signature}`);
}

describe('the session middleware', () => {
  it("a rolling response's Set-Cookie carries the very cookie the request sent", async () => {
    const bob = new Visitor(t.http, 'acme.test');
    await bob.post('/login', { user: 'bob' });
    const sent = bob.cookies.get('sid')!;
    const res = await bob.get('/me');
    expect(res.status).toBe(200);
    const setCookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
    expect(setCookie).toHaveLength(1);
    expect(setCookie[0].startsWith(`sid=${sent};`)).toBe(true);
    expect(setCookie[0]).toMatch(/; Expires=.*; HttpOnly; SameSite=Lax$/);
  });

  it('a cookie signed with an older secret still opens its session, and the response re-signs it with the current secret', async () => {
    const before = await createTestApp({ appName: APP, secret: OLD_SECRET });
    const after = await createTestApp({ appName: APP, secret: [TEST_SECRET, OLD_SECRET] });
    try {
      const carol = new Visitor(before.http, 'acme.test');
      expect((await carol.post('/login', { user: 'carol' })).status).toBe(201);
      const sid = carol.sessionId()!;
      expect(carol.cookies.get('sid')).toBe(signedWith(OLD_SECRET, sid));

      const res = await carol.on(after.http).get('/me');
      expect(res.status).toBe(200);
      expect(res.body.user).toBe('carol');
      expect(carol.cookies.get('sid')).toBe(signedWith(TEST_SECRET, sid));
    } finally {
      await before.close();
      await after.close();
    }
  });

  it("outside the cookie's path a request has no session, though it carries the cookie", async () => {
    const scoped = await createTestApp({ appName: APP, cookie: { path: '/me' } });
    try {
      const dave = new Visitor(t.http, 'acme.test');
      expect((await dave.post('/login', { user: 'dave' })).status).toBe(201);
      const onScoped = dave.on(scoped.http);
      expect((await onScoped.get('/me')).body.user).toBe('dave');
      expect((await onScoped.get('/sessions')).status).toBe(401);
      expect((await dave.get('/sessions')).status).toBe(200);
    } finally {
      await scoped.close();
    }
  });
});

describe('the TTL restart a request owes at its end', () => {
  /**
   * A request's whole wait on Redis: well above the short write pause a request must wait
   * through (PAUSE_MS), well below the long one it must give up on (STALL_MS).
   */
  const OPERATION_TIMEOUT_MS = 1500;
  const PAUSE_MS = 150;
  const STALL_MS = 5000;
  const own = useOwnRedisServer();
  let app: RunningTestingApp;
  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        TenantSessionModule.forRoot({
          tenant: { byHost: TEST_HOSTS },
          secret: TEST_SECRET,
          appName: APP,
          redis: own.server.url,
          operationTimeoutMs: OPERATION_TIMEOUT_MS,
        }),
      ],
      controllers: [RememberController],
    }).compile();
    app = await startTestingApp(moduleRef);
  });
  afterEach(async () => {
    RememberController.whileHandling = async () => undefined;
    await own.redis.call('CLIENT', 'UNPAUSE');
    await app?.close();
  });

  it('is stored before the response: the new max-age is the TTL in Redis', async () => {
    const erin = new Visitor(app.http, 'acme.test');
    expect((await erin.post('/login')).status).toBe(201);
    const res = await erin.post('/remember');
    expect(res.status).toBe(201);
    const ttl = await own.redis.pttl(`sessions:acme:${APP}:${erin.sessionId()}`);
    expect(ttl).toBeGreaterThan(3600_000);
  });

  it('answers 503 with no cookie when Redis cannot take it, and the session keeps its old TTL', async () => {
    const erin = new Visitor(app.http, 'acme.test');
    expect((await erin.post('/login')).status).toBe(201);
    const key = `sessions:acme:${APP}:${erin.sessionId()}`;
    const before = await own.redis.pttl(key);
    // Writes (GETEX restarts a TTL) wait from now on; reads of the test's own client still work.
    RememberController.whileHandling = () =>
      own.redis.call('CLIENT', 'PAUSE', String(STALL_MS), 'WRITE');
    const res = await erin.post('/remember');
    expect(res.status).toBe(503);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(await own.redis.pttl(key)).toBeLessThanOrEqual(before);
  });

  it('a second res.end while the session is being saved does not answer before it is stored', async () => {
    const erin = new Visitor(app.http, 'acme.test');
    expect((await erin.post('/login')).status).toBe(201);
    const key = `sessions:acme:${APP}:${erin.sessionId()}`;
    RememberController.whileHandling = () =>
      own.redis.call('CLIENT', 'PAUSE', String(PAUSE_MS), 'WRITE');
    const res = await erin.post('/end-twice');
    expect(res.status).toBe(201);
    expect(JSON.parse((await own.redis.get(key))!).visits).toBe(42);
  });
});
