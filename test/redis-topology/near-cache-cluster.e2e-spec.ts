import { Cluster, Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import { InvalidTenantSessionOptionsError } from 'nestjs-tenant-session';
import { revokeAllPast503s } from '../support/failover-traffic.js';
import { CommandMonitor } from '../support/monitor.js';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster.mjs';
import {
  expectRevokedWithin,
  expectServedAfterFailover,
  loginAs,
  nearCacheApps,
  sessionKeyOf,
  SETTLE_MS,
  TIMEOUT_MS,
} from '../support/near-cache-apps.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import type { Visitor } from '../support/visitor.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The commands that read a session key on a Cluster (the READ script is single-node only). */
const SESSION_READS = ['get', 'getex', 'pttl'];

/**
 * The near cache on a Redis Cluster: tracking on every master, invalidations from each, and the
 * cache off whenever one master cannot tell this process about its changes. Sessions and
 * indexes of six users spread over three masters.
 */
describe('near cache on a Redis Cluster of 3 masters and 3 replicas', () => {
  let cluster: RedisCluster;
  const clients: Cluster[] = [];
  const { start, closeAll } = nearCacheApps(() => clusterClient());

  beforeAll(async () => {
    cluster = await startRedisCluster({ replicas: 1, nodeTimeoutMs: 1000 });
  }, 60_000);
  afterEach(async () => {
    await closeAll();
    for (const client of clients.splice(0)) client.disconnect();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  const clusterClient = (options: ConstructorParameters<typeof Cluster>[1] = {}) => {
    const client = new Cluster(cluster.nodes, options);
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  };
  const keyOf = sessionKeyOf;
  /** Users logged in until every master holds one's session (ids are random: bounded). */
  const loginOnEveryMaster = async (app: TestApp) => {
    const visitors: Visitor[] = [];
    const holders = new Set<number>();
    for (let i = 0; i < 30 && (holders.size < 3 || visitors.length < 6); i++) {
      const visitor = await loginAs(app, `user-${i}`);
      holders.add(await cluster.portOf(keyOf(visitor)));
      visitors.push(visitor);
    }
    expect(holders.size).toBe(3);
    return visitors;
  };

  /** The commands every master ran while `action` ran (MONITOR on each). */
  const onMasters = async (action: () => Promise<unknown>) => {
    const opened = await Promise.allSettled(
      (await cluster.masters()).map((port) => CommandMonitor.open(`redis://127.0.0.1:${port}`)),
    );
    const monitors = opened.flatMap((result) =>
      result.status === 'fulfilled' ? [result.value] : [],
    );
    try {
      if (monitors.length < opened.length) throw new Error('a master does not answer MONITOR');
      await Promise.all(monitors.map((monitor) => monitor.barrier()));
      for (const monitor of monitors) monitor.reset();
      await action();
      await Promise.all(monitors.map((monitor) => monitor.barrier()));
      const counts: Record<string, number> = {};
      for (const monitor of monitors) {
        for (const [name, n] of Object.entries(monitor.counts()))
          counts[name] = (counts[name] ?? 0) + n;
      }
      return counts;
    } finally {
      for (const monitor of monitors) monitor.close();
    }
  };
  const sessionReads = (counts: Record<string, number>) =>
    SESSION_READS.reduce((sum, name) => sum + (counts[name] ?? 0), 0);
  /**
   * Polls (bounded) until every visitor's reads are answered 200 without reading a session key.
   */
  const cacheServes = async (visitors: Visitor[]) => {
    for (let i = 0; i < 50; i++) {
      for (const visitor of visitors) await visitor.get('/me');
      const counts = await onMasters(async () => {
        for (const visitor of visitors) expect((await visitor.get('/me')).status).toBe(200);
      });
      if (sessionReads(counts) === 0) return;
      await sleep(100);
    }
    throw new Error('the near cache never served');
  };

  it('serves repeated reads of sessions on every master without a command, also those logged in elsewhere', async () => {
    const writer = await start();
    const reader = await start();
    const visitors = (await loginOnEveryMaster(writer)).map((visitor) => visitor.on(reader.http));
    await cacheServes(visitors);

    const counts = await onMasters(async () => {
      for (let i = 0; i < 5; i++) {
        for (const visitor of visitors) expect((await visitor.get('/me')).status).toBe(200);
      }
    });

    // Neither the session nor its index entry read again (the subscribers' heartbeats aside).
    delete counts.ping;
    expect(counts).toEqual({});
  });

  it('keeps renewing index leases while reads are served from the cache', async () => {
    const writer = await start({ idleTtl: 1 });
    const app = await start({ idleTtl: 1 });
    const alice = await loginAs(writer, 'alice');
    const onReader = alice.on(app.http);
    // A lease lasts 3 idle TTLs (3 s): reads for twice that serve only if it is renewed.
    const started = performance.now();
    while (performance.now() - started < 6_000) {
      expect((await onReader.get('/me')).status).toBe(200);
      await sleep(50);
    }
    const other = clusterClient();
    const lease = Number(await other.zscore('sessions-index:acme:near:alice', alice.sessionId()!));
    const [seconds] = await other.time();
    expect(lease).toBeGreaterThan(Number(seconds) * 1000 + 1_000);
  });

  it('serves what anyone else wrote to a session, on whichever master holds it', async () => {
    const app = await start();
    const visitors = await loginOnEveryMaster(app);
    await cacheServes(visitors);
    const other = clusterClient();

    for (const [i, visitor] of visitors.entries()) {
      const stored = JSON.parse((await other.get(keyOf(visitor)))!);
      await other.set(keyOf(visitor), JSON.stringify({ ...stored, count: 40 + i }), 'KEEPTTL');
    }
    await sleep(SETTLE_MS);

    for (const [i, visitor] of visitors.entries()) {
      expect((await visitor.get('/me')).body.count).toBe(40 + i);
    }
  });

  it('after a revocation on another instance, serves no stale entry, on any master', async () => {
    const reader = await start();
    const revoker = await start();
    for (const visitor of await loginOnEveryMaster(revoker)) {
      const user = (await visitor.get('/me')).body.user as string;
      const onReader = visitor.on(reader.http);
      await cacheServes([onReader]);

      await revoker.sessions.revokeAll('acme', user);
      await expectRevokedWithin(onReader, SETTLE_MS);
    }
  });

  // The reader's connections to the old master stay open and tracking; that server, now a
  // replica, reports the keys the new master's replicated writes change.
  it("after a master hands over gracefully (CLUSTER FAILOVER), a revocation on another instance still ends the reader's hits", async () => {
    const reader = await start();
    const revoker = await start();
    const [alice] = await loginOnEveryMaster(revoker);
    const user = (await alice.get('/me')).body.user as string;
    const onReader = alice.on(reader.http);
    await cacheServes([onReader]);

    await cluster.failover(await cluster.portOf(keyOf(alice)));
    // The revoker's client follows the MOVED first, on a loaded machine past its budget (a 503:
    // not acknowledged), so it is asked again (bounded), as an application would.
    await revokeAllPast503s(revoker, user);
    await expectRevokedWithin(onReader, SETTLE_MS);
  });

  it('serves nothing from memory while one master refuses to track, and serves again once it tracks', async () => {
    const app = await start();
    const visitors = await loginOnEveryMaster(app);
    await cacheServes(visitors);
    const [refusing] = await cluster.masters();
    const admin = new Redis(refusing, '127.0.0.1', { lazyConnect: true });
    try {
      await admin.call('ACL', 'SETUSER', 'default', '-client|tracking');
      // Tracking is set up again (and refused) after the node's connection drops.
      await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      await sleep(3 * TIMEOUT_MS);

      // Every session's reads meet Redis, also those on the masters that still track.
      const counts = await onMasters(async () => {
        for (const visitor of visitors) expect((await visitor.get('/me')).status).toBe(200);
      });
      expect(counts.get).toBe(visitors.length);

      await admin.call('ACL', 'SETUSER', 'default', '+client|tracking');
      await cacheServes(visitors);
    } finally {
      await admin.call('ACL', 'SETUSER', 'default', '+client|tracking').catch(() => undefined);
      admin.disconnect();
    }
  });

  it.each([
    [
      'is killed',
      async (victim: number) => {
        await cluster.kill(victim);
        return () => cluster.restart(victim);
      },
    ],
    [
      'hands over gracefully (CLUSTER FAILOVER)',
      async (victim: number) => {
        await cluster.failover(victim);
        return async () => undefined;
      },
    ],
  ])(
    'after a master %s, serves nothing that changed meanwhile, then caches again',
    async (_, failOver) => {
      const app = await start();
      const visitors = await loginOnEveryMaster(app);
      await cacheServes(visitors);
      const [alice] = visitors;
      const victim = await cluster.portOf(keyOf(alice));

      const mend = await failOver(victim);
      try {
        // Changed on the promoted replica, which this process has never tracked; retried (bounded)
        // with a fresh client while the nodes still disagree about who the masters are.
        for (let attempt = 1; ; attempt++) {
          try {
            const other = clusterClient();
            const stored = JSON.parse((await other.get(keyOf(alice)))!);
            await other.set(keyOf(alice), JSON.stringify({ ...stored, count: 7 }), 'KEEPTTL');
            break;
          } catch (error) {
            if (attempt === 30) throw error;
            await sleep(200);
          }
        }

        await expectServedAfterFailover(alice, 7);
        await cacheServes(visitors);
        expect((await alice.get('/me')).body.count).toBe(7);
      } finally {
        await mend();
      }
    },
    60_000,
  );

  it('refuses a Cluster that reads from replicas', async () => {
    const client = clusterClient({ scaleReads: 'slave' });
    // Connected first: a Cluster client disconnected while it connects keeps the process alive.
    await client.ping();
    await expect(
      createTestApp({ appName: 'near', redis: client, nearCache: true }),
    ).rejects.toThrow(InvalidTenantSessionOptionsError);
  });
});
