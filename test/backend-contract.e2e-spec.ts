import { Redis } from 'ioredis';
import { MemorySessionBackend } from '../lib/store/memory-session.backend.js';
import { RedisSessionBackend } from '../lib/store/redis-session.backend.js';
import type { SessionBackend } from '../lib/store/session-backend.interface.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { Visitor } from './support/visitor.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One contract, every backend: what the module relies on must hold for Redis and for the
 * embedded in-process store alike.
 */
const backends: [string, () => { backend: SessionBackend; done: () => Promise<void> }][] = [
  [
    'Redis',
    () => {
      const client = new Redis(process.env.TEST_REDIS_URL!);
      return {
        backend: new RedisSessionBackend(client, 1000, true),
        done: () => client.quit().then(() => undefined),
      };
    },
  ],
  [
    'in-process memory',
    () => {
      const backend = new MemorySessionBackend();
      return { backend, done: () => backend.close() };
    },
  ],
];

describe.each(backends)('SessionBackend contract: %s', (_, create) => {
  let backend: SessionBackend;
  let done: () => Promise<void>;
  let ns: string;

  beforeEach(() => {
    ({ backend, done } = create());
    ns = `contract:${Math.random().toString(36).slice(2)}:`;
  });
  afterEach(() => done());

  it('load returns what was written and restarts its TTL', async () => {
    // Margins of hundreds of ms: the machine may be busy, the TTLs must still be told apart.
    await backend.write({ key: `${ns}s1`, value: '{"a":1}', ttlMs: 800, onlyIfExists: false });
    await sleep(500);
    expect(await backend.load(`${ns}s1`, 1200)).toBe('{"a":1}');
    await sleep(700);
    expect(await backend.load(`${ns}s1`, 1200)).toBe('{"a":1}');
    await sleep(1500);
    expect(await backend.load(`${ns}s1`, 1200)).toBeNull();
  });

  it('an update never re-creates a session that is gone', async () => {
    expect(
      await backend.write({ key: `${ns}gone`, value: '{}', ttlMs: 1000, onlyIfExists: true }),
    ).toBe(false);
    expect(await backend.load(`${ns}gone`, 1000)).toBeNull();
    await backend.write({ key: `${ns}here`, value: '{"v":1}', ttlMs: 1000, onlyIfExists: false });
    expect(
      await backend.write({ key: `${ns}here`, value: '{"v":2}', ttlMs: 1000, onlyIfExists: true }),
    ).toBe(true);
    expect(await backend.load(`${ns}here`, 1000)).toBe('{"v":2}');
  });

  it('a write without a TTL keeps the current one', async () => {
    await backend.write({ key: `${ns}k`, value: '1', ttlMs: 5000, onlyIfExists: false });
    await backend.write({ key: `${ns}k`, value: '2', onlyIfExists: true });
    const [stored] = await backend.inspect([`${ns}k`]);
    expect(stored.value).toBe('2');
    expect(stored.ttlMs).toBeGreaterThan(4000);
    expect(stored.ttlMs).toBeLessThanOrEqual(5000);
  });

  it('expire changes a TTL; take deletes and returns', async () => {
    await backend.write({ key: `${ns}k`, value: 'x', ttlMs: 100_000, onlyIfExists: false });
    await backend.expire(`${ns}k`, 2000);
    expect((await backend.inspect([`${ns}k`]))[0].ttlMs).toBeLessThanOrEqual(2000);
    expect(await backend.take(`${ns}k`)).toBe('x');
    expect(await backend.take(`${ns}k`)).toBeNull();
    expect(await backend.inspect([`${ns}k`])).toEqual([{ value: null, ttlMs: -2 }]);
  });

  it('indexes with leases: past leases drop out, scores only rise', async () => {
    const index = `${ns}idx`;
    const now = Date.now();
    const write = (sid: string, indexedUntil: number) =>
      backend.write({
        key: `${ns}${sid}`,
        value: '{}',
        ttlMs: 1000,
        onlyIfExists: false,
        index: { key: index, sid, indexedUntil },
      });
    await write('old', now + 100);
    await write('a', now + 10_000);
    await write('a', now + 5_000);
    await sleep(150);
    await write('b', now + 20_000);

    expect(await backend.indexed(index, Date.now())).toEqual([
      { sid: 'a', indexedUntil: now + 10_000 },
      { sid: 'b', indexedUntil: now + 20_000 },
    ]);
  });

  it('drain empties an index except the kept sid, unindex removes entries', async () => {
    const index = `${ns}idx`;
    const until = Date.now() + 60_000;
    for (const sid of ['a', 'b', 'c']) {
      await backend.write({
        key: `${ns}${sid}`,
        value: '{}',
        ttlMs: 60_000,
        onlyIfExists: false,
        index: { key: index, sid, indexedUntil: until },
      });
    }
    expect((await backend.drain(index, 'b')).sort()).toEqual(['a', 'c']);
    expect((await backend.indexed(index, Date.now())).map((e) => e.sid)).toEqual(['b']);
    await backend.unindex(index, ['b']);
    expect(await backend.indexed(index, Date.now())).toEqual([]);
    expect(await backend.drain(index)).toEqual([]);
  });

  it('remove counts the sessions that existed; removeMatching matches its patterns only', async () => {
    for (const key of ['p:a:1', 'p:a:2', 'p:ab:1', 'p:a*:1']) {
      await backend.write({ key: `${ns}${key}`, value: '{}', ttlMs: 60_000, onlyIfExists: false });
    }
    expect(await backend.remove([`${ns}p:a:1`, `${ns}missing`])).toBe(1);
    expect(await backend.removeMatching([`${ns}p:a:*`, `${ns}p:a\\*:*`])).toBe(2);
    expect((await backend.inspect([`${ns}p:ab:1`]))[0].value).toBe('{}');
  });
});

describe.each([
  ['Redis', () => process.env.TEST_REDIS_URL],
  ['in-process memory', () => undefined],
])('module behaviour over HTTP: %s', (_, redisUrl) => {
  let t: TestApp;
  afterEach(() => t.close());
  const start = async (idleTtl = 3600) => {
    t = await createTestApp({
      appName: `contract-${Math.random().toString(36).slice(2, 8)}`,
      redis: redisUrl(),
      idleTtl,
    });
  };

  it('logs in, guards, isolates tenants and logs out', async () => {
    await start();
    const browser = new Visitor(t.http, 'acme.test');
    expect((await browser.get('/me')).status).toBe(401);
    await browser.post('/login', { user: 'alice' });
    expect((await browser.get('/me')).body).toEqual({ user: 'alice', tenant: 'acme', count: 0 });
    expect((await new Visitor(t.http, 'globex.test', 'x', browser.cookies).get('/me')).status).toBe(
      401,
    );
    await browser.post('/logout');
    expect(
      (await new Visitor(t.http, 'acme.test', 'x', new Map(browser.cookies)).get('/me')).status,
    ).toBe(401);
  });

  it('expires idle sessions and drops them from listings', async () => {
    await start(1);
    const browser = new Visitor(t.http, 'acme.test');
    await browser.post('/login', { user: 'alice' });
    expect(await t.sessions.list('acme', 'alice')).toHaveLength(1);
    await sleep(1300);
    expect((await browser.get('/me')).status).toBe(401);
    expect(await t.sessions.list('acme', 'alice')).toEqual([]);
  });

  it('revokes all, revokes others, and never writes a revoked session back', async () => {
    await start();
    const laptop = new Visitor(t.http, 'acme.test');
    const phone = new Visitor(t.http, 'acme.test');
    await laptop.post('/login', { user: 'alice' });
    await phone.post('/login', { user: 'alice' });
    expect((await laptop.post('/sessions/revoke-others')).body).toEqual({ revoked: 1 });
    expect((await phone.get('/me')).status).toBe(401);

    const inFlight = laptop.post('/increment?delayMs=300');
    await sleep(100);
    expect(await t.sessions.revokeAll('acme', 'alice')).toBe(1);
    await inFlight;
    expect((await laptop.get('/me')).status).toBe(401);
    expect(await t.sessions.list('acme', 'alice')).toEqual([]);
  });
});
