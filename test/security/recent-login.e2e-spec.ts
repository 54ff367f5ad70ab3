import type { Redis } from 'ioredis';
import { useOwnRedisServer } from '../support/own-redis.js';
import {
  createTestApp,
  RECENT_LOGIN_MAX_AGE_S,
  untilLoginIsOld,
  type TestApp,
} from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Step-up: `@RequireRecentLogin(seconds)` asks for a login (or re-authentication) that recent;
 * `SessionLoginService.reauthenticated(req)` records one without changing identity or id.
 * (`/sensitive` asks for RECENT_LOGIN_MAX_AGE_S seconds, test-app.ts.)
 */
describe('recent login (step-up)', () => {
  const own = useOwnRedisServer();
  let redis: Redis;
  let t: TestApp;

  beforeAll(() => {
    redis = own.redis;
  });
  afterEach(() => t?.close());

  const start = async (options: Partial<Parameters<typeof createTestApp>[0]> = {}) => {
    await t?.close();
    t = await createTestApp({ redis: own.server.url, appName: 'stepup', ...options });
  };
  const loginAs = async (user: string) => {
    const visitor = new Visitor(t.http, 'acme.test');
    expect((await visitor.post('/login', { user })).status).toBe(201);
    return visitor;
  };
  const storedOwner = async (visitor: Visitor) => {
    const raw = await redis.get(`sessions:acme:stepup:${visitor.sessionId()}`);
    return JSON.parse(raw!)._owner as { createdAt: number; authenticatedAt: number };
  };

  it('step-up: an old login is refused with RECENT_LOGIN_REQUIRED, re-authentication is accepted, identity and session id unchanged', async () => {
    await start();
    const alice = await loginAs('alice');
    expect((await alice.post('/sensitive')).status).toBe(201);

    await untilLoginIsOld();
    const refused = await alice.post('/sensitive');
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({
      code: 'RECENT_LOGIN_REQUIRED',
      maxAge: RECENT_LOGIN_MAX_AGE_S,
    });
    expect((await alice.get('/me')).status).toBe(200);

    const sid = alice.sessionId();
    const before = await storedOwner(alice);
    const confirmed = await alice.post('/reauthenticate');
    expect(confirmed.status).toBe(201);
    expect(alice.sessionId()).toBe(sid);
    const after = await storedOwner(alice);
    expect(after.createdAt).toBe(before.createdAt);
    expect(after.authenticatedAt).toBeGreaterThan(
      before.authenticatedAt + RECENT_LOGIN_MAX_AGE_S * 1000,
    );
    expect(new Date(confirmed.body.authenticatedAt).getTime()).toBe(after.authenticatedAt);

    expect((await alice.post('/sensitive')).status).toBe(201);
    expect((await alice.get('/me')).body).toMatchObject({ user: 'alice' });
    const [listed] = (await alice.get('/sessions')).body;
    expect(Date.parse(listed.authenticatedAt)).toBe(after.authenticatedAt);
    expect(Date.parse(listed.createdAt)).toBe(before.createdAt);
  });

  it('keeps a re-authentication across app instances (it is stored, sealed)', async () => {
    await start();
    const alice = await loginAs('alice');
    await untilLoginIsOld();
    expect((await alice.post('/reauthenticate')).status).toBe(201);
    await start();
    expect((await alice.on(t.http).post('/sensitive')).status).toBe(201);
  });

  it('ignores an authentication time written into Redis by anyone but the library', async () => {
    await start();
    const alice = await loginAs('alice');
    await untilLoginIsOld();
    const key = `sessions:acme:stepup:${alice.sessionId()}`;
    const stored = JSON.parse((await redis.get(key))!);
    stored._owner.authenticatedAt = Date.now();
    await redis.set(key, JSON.stringify(stored), 'KEEPTTL');

    // The seal no longer matches: the session is refused, so the request has no login at all.
    expect((await alice.post('/sensitive')).status).toBe(401);
    expect((await alice.post('/sensitive')).body.code).toBe('LOGIN_REQUIRED');
  });

  it('answers 401 Login required without a session, to the guard and to reauthenticated()', async () => {
    await start();
    const anonymous = new Visitor(t.http, 'acme.test');
    const refused = await anonymous.post('/sensitive');
    expect(refused.status).toBe(401);
    expect(refused.body.message).toBe('Login required');
    expect((await anonymous.post('/reauthenticate')).status).toBe(401);
  });

  it("uses the module's recentLoginMaxAge when the decorator names no age", async () => {
    await start({ recentLoginMaxAge: RECENT_LOGIN_MAX_AGE_S });
    const alice = await loginAs('alice');
    expect((await alice.post('/sensitive-by-default')).status).toBe(201);
    await untilLoginIsOld();
    const refused = await alice.post('/sensitive-by-default');
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({
      code: 'RECENT_LOGIN_REQUIRED',
      maxAge: RECENT_LOGIN_MAX_AGE_S,
    });
  });

  it('defaults recentLoginMaxAge to 10 minutes', async () => {
    await start();
    const alice = await loginAs('alice');
    await sleep(1300);
    expect((await alice.post('/sensitive-by-default')).status).toBe(201);
  });
});
