import { Cluster, Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import type { Socket as ClientSocket } from 'socket.io-client';
import {
  audit,
  revokeEveryone,
  serviceResumed,
  startTraffic,
  storedSessionKeys,
  storedSessions,
  type TrafficTally,
} from '../support/failover-traffic.js';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster.mjs';
import { askRedis } from '../support/redis-server.mjs';
import { subscribersBack } from '../support/subscribers.js';
import { createTestApp, TEST_SECRET, type TestApp } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';
import { ask, connectSocket, ending, startWsApp, within, type WsApp } from '../support/ws-app.js';

const APP = 'cluster-failover';
const OPERATION_TIMEOUT_MS = 1000;
/** Not a performance figure: the line between "answered at its deadline" and "hung". */
const HANG_LIMIT_MS = OPERATION_TIMEOUT_MS + 5000;
const DURABILITY = { replicas: 1, timeoutMs: 300 };
const EVENT_WAIT_MS = 20_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function expectOnly503s(tally: TrafficTally): void {
  expect(tally.unexpected).toEqual([]);
  expect(tally.slowestMs).toBeLessThan(HANG_LIMIT_MS);
  expect(tally.unavailable.count).toBeGreaterThan(0);
  expect(tally.logins.length).toBeGreaterThan(0);
  expect(tally.revoked.length).toBeGreaterThan(0);
}

describe('on a Redis Cluster of 3 masters and 3 replicas (cluster-node-timeout 1 s)', () => {
  let cluster: RedisCluster;
  const clients: Cluster[] = [];
  const apps: TestApp[] = [];

  beforeAll(async () => {
    cluster = await startRedisCluster({ replicas: 1, nodeTimeoutMs: 1000 });
  }, 60_000);
  afterAll(async () => {
    for (const app of apps) await app.close();
    for (const client of clients) client.disconnect();
    await cluster?.stop();
  });

  /** A Cluster client as docs/sentinel-and-cluster.md advises for failovers, and an app on it. */
  const clusterClient = () => {
    const client = new Cluster(cluster.nodes, {
      enableOfflineQueue: false,
      redisOptions: { commandTimeout: OPERATION_TIMEOUT_MS },
    });
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  };
  const appOn = async (appName: string, durability?: typeof DURABILITY) => {
    const t = await createTestApp({
      appName,
      redis: clusterClient(),
      operationTimeoutMs: OPERATION_TIMEOUT_MS,
      durability,
      // The traffic logs each worker's user in hundreds of times: no cap may end the oldest.
      maxSessionsPerUser: false,
    });
    apps.push(t);
    return t;
  };

  /**
   * Traffic while one master is killed, until its replica took over, the killed node rejoined
   * as a replica (so that durability can be met again) and the app serves again.
   */
  async function trafficThroughKill(t: TestApp, prefix: string) {
    const traffic = startTraffic({ http: t.http, prefix });
    try {
      await sleep(1000);
      const [victim] = await cluster.masters();
      await cluster.kill(victim);
      await cluster.restart(victim);
      await serviceResumed(t.http);
      await sleep(1000);
    } finally {
      // Also when the fault failed: traffic left running would spill into the next test.
      await traffic.stop();
    }
    return traffic.tally;
  }

  it('kill -9 of one master: requests answer 503, never 500 or past their deadline; service resumes by itself; no acknowledged revocation is undone; revokeAll then leaves no session anyone holds', async () => {
    const t = await appOn(APP);
    const tally = await trafficThroughKill(t, 'kill');

    expectOnly503s(tally);
    expect((await audit(tally)).undoneRevocations).toBe(0);
    await revokeEveryone(t, tally.users);
    for (const { visitor } of tally.logins) expect((await visitor.get('/me')).status).toBe(401);
  }, 120_000);

  it('kill -9 of one master with durability: no acknowledged login, write or revocation is lost, and revokeAll leaves no session at all (a key left unindexed never serves and goes at its first read)', async () => {
    const appName = `${APP}-durable`;
    const t = await appOn(appName, DURABILITY);
    const tally = await trafficThroughKill(t, 'kill-durable');

    expectOnly503s(tally);
    expect(await audit(tally)).toEqual({ lostLogins: 0, lostWrites: 0, undoneRevocations: 0 });
    await revokeEveryone(t, tally.users);
    // One CI run found a key left here; not reproduced since (20 local runs), cause not found.
    // A key without its entry never serves, and its first read deletes it (docs/guarantees.md):
    // checked here. One still indexed would be a session revokeAll missed: a failure.
    for (const { sid, userId } of await storedSessions(await cluster.masters(), appName)) {
      const index = `sessions-index:acme:${appName}:${userId}`;
      const entry = await askRedis(await cluster.portOf(index), (c) => c.zscore(index, sid));
      expect({ userId, entry }).toEqual({ userId: expect.any(String), entry: null });
      const holder = Visitor.holding(t.http, 'acme.test', sid, TEST_SECRET);
      expect((await holder.get('/me')).status).toBe(401);
    }
    expect(await storedSessionKeys(await cluster.masters(), appName)).toBe(0);
  }, 120_000);

  it('too few replicas (min-replicas-to-write above the replicas): login, read, write and revoke answer 503, never 500', async () => {
    const t = await appOn(`${APP}-noreplicas`);
    const alice = new Visitor(t.http, 'acme.test');
    expect((await alice.post('/login', { user: 'noreplicas' })).status).toBe(201);
    const phone = new Visitor(t.http, 'acme.test');
    expect((await phone.post('/login', { user: 'noreplicas' })).status).toBe(201);
    const masters = (await cluster.masters()).map((port) => new Redis(port, '127.0.0.1'));
    for (const master of masters) await master.config('SET', 'min-replicas-to-write', '2');
    try {
      expect((await new Visitor(t.http, 'acme.test').post('/login', { user: 'x' })).status).toBe(
        503,
      );
      expect((await alice.get('/me')).status).toBe(503);
      expect((await alice.post('/increment')).status).toBe(503);
      expect((await alice.post('/sessions/revoke-others')).status).toBe(503);
      await expect(t.sessions.revokeAll('acme', 'noreplicas')).rejects.toMatchObject({
        status: 503,
      });
    } finally {
      for (const master of masters) {
        await master.config('SET', 'min-replicas-to-write', '0');
        master.disconnect();
      }
    }
    // Service resumes by itself; right after the setting is back, Redis may still refuse a
    // moment (as on Sentinel, see sentinel-failover.e2e-spec.ts): retried, bounded.
    let revoked = await alice.post('/sessions/revoke-others');
    for (let attempt = 1; revoked.status === 503 && attempt < 25; attempt++) {
      await sleep(200);
      revoked = await alice.post('/sessions/revoke-others');
    }
    expect(revoked.body).toEqual({ revoked: 1 });
    expect((await phone.get('/me')).status).toBe(401);
  });

  it("after the events channel's master is killed, a revocation on one instance still signs out the socket on the other (sharded pub/sub follows the new master)", async () => {
    const appName = `${APP}-ws`;
    const options = { appName, operationTimeoutMs: OPERATION_TIMEOUT_MS };
    const holder: WsApp = await startWsApp({ ...options, redis: clusterClient() });
    const revoker: WsApp = await startWsApp({ ...options, redis: clusterClient() });
    let socket: ClientSocket | undefined;
    let killed: number | undefined;
    try {
      const alice = new Visitor(holder.url, 'acme.test', 'alice-device');
      expect((await alice.post('/login', { user: 'alice' })).status).toBe(201);
      socket = await connectSocket(holder.url, { cookie: alice.cookieHeader });
      expect(await ask(socket, 'whoami')).toMatchObject({ userId: 'alice' });
      const ended = ending(socket);

      killed = await cluster.portOf(`tenant-session:${appName}:events`);
      await cluster.kill(killed);
      const deadline = performance.now() + EVENT_WAIT_MS;
      let revoked: number | undefined;
      while (revoked === undefined) {
        revoked = await revoker.sessions.revokeAll('acme', 'alice').catch((error: unknown) => {
          if (performance.now() > deadline) throw error;
          return sleep(100).then(() => undefined);
        });
      }

      expect(revoked).toBe(1);
      // Signed out either by the event or, when it was published before the subscriber was back,
      // by the catch-up read that follows its resubscription (which did not hear why: 'gone').
      const first = (await within(EVENT_WAIT_MS, ended, 'the sign-out')).ended;
      expect(['revoked', 'gone']).toContain(first?.reason);

      // The channel now lives on the new master: once both instances subscribe there again, a
      // revocation's event reaches the other instance.
      const channel = `tenant-session:${appName}:events`;
      await subscribersBack(() => cluster.portOf(channel), channel, {
        count: 2,
        sharded: true,
        limitMs: EVENT_WAIT_MS,
      });
      expect((await alice.post('/login', { user: 'alice' })).status).toBe(201);
      socket.close();
      socket = await connectSocket(holder.url, { cookie: alice.cookieHeader });
      expect(await ask(socket, 'whoami')).toMatchObject({ userId: 'alice' });
      const endedAgain = ending(socket);
      expect(await revoker.sessions.revokeAll('acme', 'alice')).toBe(1);
      expect((await within(EVENT_WAIT_MS, endedAgain, 'the second sign-out')).ended).toEqual({
        reason: 'revoked',
      });
    } finally {
      // Back before the suite's teardown, which would otherwise wait on the killed master.
      if (killed !== undefined) await cluster.restart(killed);
      socket?.close();
      await holder.close();
      await revoker.close();
    }
  }, 120_000);
});
