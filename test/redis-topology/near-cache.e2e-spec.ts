import type { Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import type { NearCachedSessionKeys } from '../../lib/store/near-cache/near-cached-session-keys.js';
import { OperationBudget } from '../../lib/store/operation-budget.js';
import { useOwnRedisServer } from '../support/own-redis.js';
import { countCommands } from '../support/redis-stats.js';
import {
  expectRevokedWithin,
  loginAs,
  nearCacheApps,
  sessionKeyOf,
  SETTLE_MS,
  TIMEOUT_MS,
} from '../support/near-cache-apps.js';
import type { Visitor } from '../support/visitor.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The near cache (`nearCache: true`): repeated reads without a round trip, exact through Redis
 * server-assisted invalidation. Two app instances with connections of their own stand for two
 * processes; a third client plays "anyone else writing to Redis".
 */
describe('near cache (real Redis)', () => {
  const own = useOwnRedisServer();
  let redis: Redis;
  const { start, closeAll } = nearCacheApps(() => own.server.url);

  beforeAll(() => {
    redis = own.redis;
  });
  afterEach(async () => {
    own.server.resume();
    await closeAll();
  });

  const key = sessionKeyOf;
  /** Commands Redis ran for sessions: the invalidation connection's heartbeat PINGs left out. */
  const sessionCommands = async (action: () => Promise<unknown>) => {
    const counts = await countCommands(redis, action);
    delete counts.ping;
    return counts;
  };
  /** Polls (bounded) until the instance's cache is on again after a gap. */
  const cacheServes = async (visitor: Visitor) => {
    for (let i = 0; i < 50; i++) {
      await visitor.get('/me');
      const counts = await sessionCommands(() => visitor.get('/me'));
      if (Object.keys(counts).length === 0) return;
      await sleep(50);
    }
    throw new Error('the near cache never came back');
  };

  it('serves repeated reads of a session without a round trip', async () => {
    const app = await start();
    const alice = await loginAs(app, 'alice');
    await alice.get('/me');

    const counts = await sessionCommands(async () => {
      for (let i = 0; i < 20; i++) expect((await alice.get('/me')).status).toBe(200);
    });

    expect(counts).toEqual({});
  });

  it('serves a session it just wrote without reading it back', async () => {
    const app = await start();
    const alice = await loginAs(app, 'alice');
    await alice.get('/me');

    const counts = await sessionCommands(async () => {
      for (let i = 1; i <= 5; i++) {
        expect((await alice.post('/increment')).body.count).toBe(i);
        expect((await alice.get('/me')).body.count).toBe(i);
      }
    });

    expect(counts).toEqual({ set: 5 });
  });

  it('serves a session it wrote while its other writes of it overlapped, as Redis holds it', async () => {
    const app = await start();
    const alice = await loginAs(app, 'alice');
    await alice.get('/me');
    const replies = await Promise.all(Array.from({ length: 8 }, () => alice.post('/increment')));
    expect(replies.map((reply) => reply.status)).toEqual(Array(8).fill(201));

    let served: unknown;
    const counts = await sessionCommands(async () => {
      served = (await alice.get('/me')).body.count;
    });

    expect(counts).toEqual({});
    expect(served).toBe((JSON.parse((await redis.get(key(alice)))!) as { count: number }).count);
  });

  it('serves a read begun while it writes the session once the write is done, without a round trip', async () => {
    // A long deadline: the write waits at the frozen server while the read arrives.
    const app = await start({ operationTimeoutMs: 5_000 });
    const alice = await loginAs(app, 'alice');
    await alice.get('/me');

    let served: unknown;
    const counts = await sessionCommands(async () => {
      own.server.pause();
      const write = alice.post('/increment');
      await sleep(SETTLE_MS);
      const read = alice.get('/me');
      await sleep(SETTLE_MS);
      own.server.resume();
      expect((await write).status).toBe(201);
      served = (await read).body.count;
    });

    expect(counts).toEqual({ set: 1 });
    expect(served).toBe(1);
  });

  it('restarts the TTL at most once per 1 % of it, not on every read', async () => {
    const app = await start({ idleTtl: 10 });
    const alice = await loginAs(app, 'alice');
    const started = performance.now();
    let lastRead = started;
    const reads = await countCommands(redis, async () => {
      for (let i = 0; i < 30; i++) {
        expect((await alice.get('/me')).status).toBe(200);
        lastRead = performance.now();
        await sleep(10);
      }
    });
    const elapsed = performance.now() - started;
    // A read goes to Redis (one READ) once the cached TTL ran down by 1 % (100 ms of 10 s); the
    // READ restarts the TTL only past half that slack, so that instances sharing a session do
    // not restart it for each other: at most two READs per 100 ms of reads, plus one.
    const roundTrips = reads.evalsha ?? 0;
    delete reads.ping; // the invalidation connection's heartbeat
    expect(Object.keys(reads)).toEqual(['evalsha']);
    expect(roundTrips).toBeGreaterThan(0);
    expect(roundTrips).toBeLessThanOrEqual(2 * Math.ceil(elapsed / 100) + 1);
    expect(roundTrips).toBeLessThan(30);
    // Restarted within 1 % before the last read, and running down since (a busy machine may
    // take a while between the last read and this PTTL).
    const ttl = await redis.pttl(key(alice));
    expect(ttl).toBeGreaterThan(10_000 - 100 - (performance.now() - lastRead) - 20);
  });

  it('answers a hit once the event-loop turn is over, obeying a change made in the turn', async () => {
    const stale = 'sessions:acme:near:turn';
    await redis.set(stale, 'as first read', 'PX', 60_000);
    const app = await start();
    const { backend } = await app.registry.get('acme');
    const load = () =>
      backend.keys
        .read(stale, { mode: 'always', ttlMs: 60_000 }, undefined, new OperationBudget(5_000))
        .then((read) => read.value);
    // Bounded: the cache turns on once the invalidation connection is in place.
    let cached = false;
    for (let i = 0; i < 50 && !cached; i++, await sleep(20)) {
      await load();
      cached = Object.keys(await sessionCommands(load)).length === 0;
    }
    expect(cached).toBe(true);

    const read = load();
    // In the same turn, after the hit was found: this process deletes the key.
    const removed = backend.keys.remove([stale], new OperationBudget(5_000));

    expect(await read).toBeNull();
    expect(await removed).toBe(1);
  });

  it('after a revocation on another instance, serves no stale entry', async () => {
    const reader = await start();
    const revoker = await start();
    for (let round = 0; round < 10; round++) {
      const alice = await loginAs(revoker, 'alice');
      const onReader = alice.on(reader.http);
      await onReader.get('/me');
      expect((await onReader.get('/me')).status).toBe(200);

      await revoker.sessions.revokeAll('acme', 'alice');
      await expectRevokedWithin(onReader, SETTLE_MS);
    }
  });

  it('serves what anyone else wrote to the session, not the cached copy', async () => {
    const app = await start();
    const alice = await loginAs(app, 'alice');
    expect((await alice.get('/me')).body.count).toBe(0);
    const stored = JSON.parse((await redis.get(key(alice)))!);
    await redis.set(key(alice), JSON.stringify({ ...stored, count: 41 }), 'KEEPTTL');
    await sleep(SETTLE_MS);
    expect((await alice.get('/me')).body.count).toBe(41);
  });

  it.each([
    ['its invalidation connection', 'pubsub'],
    ['its session connection', 'tracking'],
  ])('after losing %s, serves nothing that changed meanwhile', async (_, which) => {
    const app = await start();
    const alice = await loginAs(app, 'alice');
    await cacheServes(alice);
    const stored = JSON.parse((await redis.get(key(alice)))!);

    await killConnections(redis, which as 'pubsub' | 'tracking');
    // Changed while nobody could tell the instance: that invalidation is lost for good.
    await redis.set(key(alice), JSON.stringify({ ...stored, count: 7 }), 'KEEPTTL');
    await sleep(SETTLE_MS);

    expect((await alice.get('/me')).body.count).toBe(7);
    await cacheServes(alice);
    expect((await alice.get('/me')).body.count).toBe(7);
  });

  it('after Redis restarts empty, serves no session from memory', async () => {
    const app = await start();
    const alice = await loginAs(app, 'alice');
    await cacheServes(alice);
    await own.server.stop();
    await own.server.start();
    let status = 0;
    for (let i = 0; i < 50 && status !== 401; i++, await sleep(100)) {
      status = (await alice.get('/me')).status;
      expect(status).not.toBe(200);
    }
    expect(status).toBe(401);
  });

  it('answers 503 while Redis is frozen, never a session from memory', async () => {
    const app = await start();
    const alice = await loginAs(app, 'alice');
    await cacheServes(alice);
    own.server.pause();
    // The invalidation connection misses a heartbeat (operationTimeoutMs) and the cache turns off.
    await sleep(3 * TIMEOUT_MS);
    expect((await alice.get('/me')).status).toBe(503);
    own.server.resume();
    await cacheServes(alice);
    expect((await alice.get('/me')).status).toBe(200);
  });

  it('stays within maxEntries', async () => {
    const app = await start({ nearCache: { maxEntries: 3 } });
    const visitors = [];
    for (let i = 0; i < 6; i++) visitors.push(await loginAs(app, `user-${i}`));
    for (const visitor of visitors) await visitor.get('/me');
    const keys = (await app.registry.get('acme')).backend.keys as NearCachedSessionKeys;
    expect(keys.cachedSessions).toBe(3);
  });
});

/** CLIENT KILL of the app's connections of one kind: its subscribers, or its tracking one. */
async function killConnections(redis: Redis, which: 'pubsub' | 'tracking'): Promise<void> {
  if (which === 'pubsub') {
    await redis.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    return;
  }
  const list = String(await redis.client('LIST'));
  for (const line of list.split('\n')) {
    const id = /\bid=(\d+)/.exec(line)?.[1];
    if (id && /\bflags=\S*t/.test(line)) await redis.call('CLIENT', 'KILL', 'ID', id);
  }
}
