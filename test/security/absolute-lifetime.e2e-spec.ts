import type { Redis } from 'ioredis';
import { InvalidTenantSessionOptionsError } from 'nestjs-tenant-session';
import { useOwnRedisServer } from '../support/own-redis.js';
import { TcpGate } from '../support/tcp-gate.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const DAY_S = 24 * 3600;

/**
 * A session ends at its login + the absolute lifetime whatever its activity, enforced by Redis:
 * no write or read ever gives its key a TTL past that deadline, so other services see it end.
 */
describe('absolute session lifetime (real Redis)', () => {
  const own = useOwnRedisServer();
  let redis: Redis;
  let t: TestApp;

  beforeAll(() => {
    redis = own.redis;
  });
  afterEach(() => t?.close());

  const start = async (options: Partial<Parameters<typeof createTestApp>[0]> = {}) => {
    await t?.close();
    t = await createTestApp({ redis: own.server.url, appName: 'life', idleTtl: 60, ...options });
  };
  const loginAs = async (user: string, body: object = {}, host = 'acme.test') => {
    const visitor = new Visitor(t.http, host);
    expect((await visitor.post('/login', { user, ...body })).status).toBe(201);
    return visitor;
  };
  const key = (visitor: Visitor, tenant = 'acme') =>
    `sessions:${tenant}:life:${visitor.sessionId()}`;
  /** The absolute deadline the session id carries (ms epoch), as the library reads it. */
  const deadlineOf = (visitor: Visitor) => parseInt(visitor.sessionId()!.split('~')[1], 36) * 1000;
  /**
   * The instant (ms epoch, Redis's clock) Redis will expire the key at, as Redis states it
   * (PEXPIRETIME): exact, where this process's clock plus a PTTL adds readings of two clocks
   * (their sum came 63 ms past a deadline the key's PXAT held on a loaded machine, dry run 17).
   */
  const expiryOf = async (sessionKey: string) => {
    const at = await redis.pexpiretime(sessionKey);
    // -1: a key with no expiry, which would outlive any deadline; -2 (gone) is below any.
    expect(at).not.toBe(-1);
    return at;
  };

  it('no TTL outlives the deadline though the app read the Redis clock over a slow link', async () => {
    // Replies held back at start-up: the reply to TIME arrives 150 ms after Redis read it.
    const gate = await TcpGate.start(own.server.port);
    gate.replyDelayMs = 150;
    try {
      await start({ absoluteLifetime: 3, redis: gate.url });
      gate.replyDelayMs = 0;
      const busy = await loginAs('alice');
      const deadline = deadlineOf(busy);
      for (let i = 0; i < 5; i++) {
        expect((await busy.get('/me')).status).toBe(200);
        expect(await expiryOf(key(busy))).toBeLessThanOrEqual(deadline);
      }
    } finally {
      await t.close();
      await gate.stop();
    }
  });

  it('a session key never outlives its absolute deadline, even when its commands reach Redis late', async () => {
    // Every command held back 200 ms on its way to Redis after the app computed its TTL, as a
    // lagging event loop, a corked write or a slow network holds it: the deadline must not move.
    const gate = await TcpGate.start(own.server.port);
    try {
      await start({ absoluteLifetime: 3, redis: gate.url });
      const busy = await loginAs('alice');
      const deadline = deadlineOf(busy);
      gate.requestDelayMs = 200;
      for (const request of [() => busy.get('/me'), () => busy.post('/increment')]) {
        expect((await request()).status).toBeLessThan(300);
        // The key expires by Redis's clock: no later than the deadline.
        expect(await expiryOf(key(busy))).toBeLessThanOrEqual(deadline);
      }
    } finally {
      await t.close();
      await gate.stop();
    }
  });

  it('a session kept active past its absolute lifetime is logged out, and its key is gone from Redis', async () => {
    await start({ absoluteLifetime: 3 });
    const busy = await loginAs('alice');
    const sessionKey = key(busy);
    const deadline = deadlineOf(busy);
    expect(deadline - Date.now()).toBeLessThanOrEqual(4000);

    const answers: number[] = [];
    // Busier than the idle TTL could ever end it: a request every 300 ms, a 60 s idle TTL.
    for (let i = 0; i < 30 && Date.now() < deadline + 1000; i++) {
      const res = await (i % 2 ? busy.post('/increment') : busy.get('/me'));
      answers.push(res.status);
      if (res.status === 200 || res.status === 201) {
        // Neither a read's GETEX nor a write's SET gave the key a TTL past the deadline.
        expect(await expiryOf(sessionKey)).toBeLessThanOrEqual(deadline);
      }
      await sleep(300);
    }

    expect(answers.slice(0, 3).every((status) => status < 300)).toBe(true);
    expect(answers.at(-1)).toBe(401);
    expect((await busy.get('/me')).status).toBe(401);
    expect(await redis.exists(sessionKey)).toBe(0);
  });

  it("caps a remember-me session at the tenant's lifetime unless the login asks for more", async () => {
    await start({ absoluteLifetime: DAY_S });
    const thirtyDays = 30 * DAY_S * 1000;
    const capped = await loginAs('alice', { idleTtl: thirtyDays / 1000 });
    expect(await redis.pttl(key(capped))).toBeLessThanOrEqual(DAY_S * 1000 + 1000);
    await capped.get('/me');
    expect(await redis.pttl(key(capped))).toBeLessThanOrEqual(DAY_S * 1000 + 1000);

    const remembered = await loginAs('bob', {
      idleTtl: thirtyDays / 1000,
      absoluteLifetime: 31 * DAY_S,
    });
    await remembered.get('/me');
    expect(await redis.pttl(key(remembered))).toBeGreaterThan(thirtyDays - 60_000);
  });

  it('takes a per-tenant lifetime from tenantSettings and a per-login one from login()', async () => {
    await start({ absoluteLifetime: 600, tenantSettings: { globex: { absoluteLifetime: 5 } } });
    const acme = await loginAs('alice');
    const globex = await loginAs('alice', {}, 'globex.test');
    const short = await loginAs('carol', { absoluteLifetime: 7 });

    expect(deadlineOf(acme) - Date.now()).toBeGreaterThan(590_000);
    expect(await redis.pttl(key(acme))).toBeGreaterThan(55_000);
    expect(await redis.pttl(key(globex, 'globex'))).toBeLessThanOrEqual(6000);
    expect(await redis.pttl(key(short))).toBeLessThanOrEqual(8000);
    expect(await redis.pttl(key(short))).toBeGreaterThan(5000);
  });

  it('keeps the index lease near the deadline instead of 3 idle TTLs past it', async () => {
    await start({ absoluteLifetime: 4 });
    const visitor = await loginAs('alice');
    await visitor.get('/me');
    const [, lease] = await redis.zrange('sessions-index:acme:life:alice', '0', '-1', 'WITHSCORES');
    // 3 × the TTL the session got (at most its 4-5 s to the deadline), not 3 × 60 s.
    expect(Number(lease)).toBeLessThan(Date.now() + 3 * 5000 + 1000);
    expect(Number(lease)).toBeGreaterThan(deadlineOf(visitor));
  });

  it('lists each session with its absolute deadline', async () => {
    await start({ absoluteLifetime: 600 });
    const visitor = await loginAs('alice');
    const listed = await visitor.get('/sessions');
    expect(listed.body).toEqual([
      expect.objectContaining({
        current: true,
        absoluteExpiresAt: new Date(deadlineOf(visitor)).toISOString(),
      }),
    ]);
    expect(Date.parse(listed.body[0].expiresAt)).toBeLessThanOrEqual(deadlineOf(visitor));
  });

  it('defaults to 24 hours', async () => {
    await start();
    const visitor = await loginAs('alice');
    const left = deadlineOf(visitor) - Date.now();
    expect(left).toBeGreaterThan(DAY_S * 1000 - 60_000);
    expect(left).toBeLessThanOrEqual(DAY_S * 1000 + 1000);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses absoluteLifetime %p', async (absoluteLifetime) => {
    await expect(start({ absoluteLifetime })).rejects.toThrow(InvalidTenantSessionOptionsError);
    await expect(start({ tenantSettings: { acme: { absoluteLifetime } } })).rejects.toThrow(
      /tenantSettings\[acme\]\.absoluteLifetime/,
    );
  });
});
