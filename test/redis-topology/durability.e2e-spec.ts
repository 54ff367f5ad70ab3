import { Redis } from 'ioredis';
import { mkdtemp, rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidTenantSessionOptionsError } from 'nestjs-tenant-session';
import { CommandMonitor } from '../support/monitor.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.mjs';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';

const APP = 'durability';
/**
 * What the replica must confirm, where it is up: a wide margin, since a linked replica confirms
 * at once on a quiet machine but may be starved for a while when other suites run beside this
 * one (Sentinel, Cluster), and a write it confirms late answers 503. A WAIT that cannot succeed
 * (the replica is down) is asserted on an app with a short one, so that test stays fast.
 */
const DURABILITY = { replicas: 1, timeoutMs: 2_000 };
const SHORT_WAIT = { replicas: 1, timeoutMs: 100 };
/** Above both WAITs: a request answers 503 for the replicas, never for its own budget. */
const OPERATION_TIMEOUT_MS = 5_000;
/** How long a (re)started replica may take to sync with the primary. */
const LINK_WAIT_MS = 20_000;

describe('durability: acknowledged only once replicas hold it', () => {
  let primary: RedisServer;
  let replica: RedisServer;
  let redis: Redis;
  let t: TestApp;
  /** The same sessions, writes waiting only SHORT_WAIT for the replica. */
  let shortWait: TestApp;
  let dir: string;

  beforeAll(async () => {
    // Syncs a replica as soon as it asks, not after the default delay (which gathers replicas
    // that start together): the replica links at once, at start and after its restart.
    primary = await startRedisServer(['--repl-diskless-sync-delay', '0']);
    // A replica writes the data it syncs to disk: keep that out of the working directory.
    dir = await mkdtemp(join(tmpdir(), 'redis-replica-'));
    replica = await startRedisServer([
      '--dir',
      dir,
      '--replicaof',
      '127.0.0.1',
      String(primary.port),
    ]);
    redis = new Redis(primary.url);
    const options = { appName: APP, redis: primary.url, operationTimeoutMs: OPERATION_TIMEOUT_MS };
    t = await createTestApp({ ...options, durability: DURABILITY });
    shortWait = await createTestApp({ ...options, durability: SHORT_WAIT });
  });
  afterAll(async () => {
    await t?.close();
    await shortWait?.close();
    redis?.disconnect();
    await replica?.stop();
    await primary?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Waits until the primary's replica is online (synced, after a start or a restart). */
  const replicaLinked = async () => {
    const deadline = performance.now() + LINK_WAIT_MS;
    while (performance.now() < deadline) {
      if (/^slave0:.*state=online/m.test(await redis.info('replication'))) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`the replica did not link within ${LINK_WAIT_MS} ms`);
  };

  it('every write that acknowledges something is followed by WAIT in the same round trip; reads are not', async () => {
    await replicaLinked();
    const monitor = await CommandMonitor.open(primary.url);
    try {
      await monitor.barrier();
      monitor.reset();
      const alice = new Visitor(t.http, 'acme.test');
      expect((await alice.post('/login', { user: 'alice' })).status).toBe(201);
      expect((await alice.post('/increment')).body).toEqual({ count: 1 });
      expect((await alice.get('/me')).status).toBe(200);
      const phone = new Visitor(t.http, 'acme.test');
      expect((await phone.post('/login', { user: 'alice' })).status).toBe(201);
      expect((await alice.post('/sessions/revoke-others')).body).toEqual({ revoked: 1 });
      expect((await alice.post('/logout')).status).toBe(201);
      await monitor.barrier();

      // A script shows as `eval -- tenant-session:<name>`, or by digest as `evalsha (<name>)`.
      const names = monitor.commands().map((line) => {
        if (line.startsWith('evalsha')) return `tenant-session:${line.slice(9, -1)}`;
        return line.split(' ').at(line.startsWith('eval') ? 2 : 0);
      });
      const waits = names.flatMap((name, i) => (name === 'wait' ? [names[i - 1]] : []));
      expect(waits).toEqual([
        // alice's login: ADMIT, SET, CONFIRM (her new visit's session, never stored, is only
        // read: nothing to wait for)
        'tenant-session:admit',
        'set',
        'tenant-session:confirm',
        // her write (SET XX)
        'set',
        // the phone's login
        'tenant-session:admit',
        'set',
        'tenant-session:confirm',
        // revoking the phone: not-before, DEL, ZREM
        'tenant-session:entries',
        'del',
        'zrem',
        // logout: ZREM (the entry goes first), then the deletion of what it unindexed
        'zrem',
        'tenant-session:delete-if-unchanged',
      ]);
      // Each read is one READ script, and nothing waits for it.
      const read = 'tenant-session:read';
      expect(names.filter((name) => name === read).length).toBeGreaterThan(0);
      expect(names.filter((name, i) => name === read && names[i + 1] === 'wait')).toEqual([]);
    } finally {
      monitor.close();
    }
  });

  it('without enough replicas a login answers 503 with no cookie, and a write and a revocation answer 503; reads still answer; all works once the replica is back', async () => {
    await replicaLinked();
    const alice = new Visitor(t.http, 'acme.test');
    expect((await alice.post('/login', { user: 'bob' })).status).toBe(201);
    const phone = new Visitor(t.http, 'acme.test');
    expect((await phone.post('/login', { user: 'bob' })).status).toBe(201);
    await replica.stop();

    // No replica can confirm anything now, however long a write waits: the short WAIT says so
    // as the long one would, sooner.
    const late = new Visitor(shortWait.http, 'acme.test');
    const refused = await late.post('/login', { user: 'bob' });
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ message: 'Session store unavailable' });
    expect(refused.headers['set-cookie']).toBeUndefined();
    const aliceThere = alice.on(shortWait.http);
    expect((await aliceThere.post('/increment')).status).toBe(503);
    expect((await aliceThere.post('/sessions/revoke-others')).status).toBe(503);
    // The reason tells the WAIT's own timeout from the request's budget running out.
    await expect(shortWait.sessions.revokeAll('acme', 'bob')).rejects.toMatchObject({
      status: 503,
      reason: 'the write was not acknowledged by enough replicas in time (durability)',
    });
    // A read only restarts the idle TTL: nothing to confirm.
    expect((await aliceThere.get('/me')).body).toMatchObject({ user: 'bob' });

    await replica.start();
    await replicaLinked();
    // The revocation that answered 503 is run again, and removes everything.
    expect((await alice.post('/sessions/revoke-others')).body).toEqual({ revoked: 1 });
    expect((await phone.get('/me')).status).toBe(401);
    expect(await t.sessions.revokeAll('acme', 'bob')).toBe(1);
    expect((await alice.get('/me')).status).toBe(401);
    expect((await late.on(t.http).post('/login', { user: 'bob' })).status).toBe(201);
  }, 60_000);

  it.each([
    [
      'no replicas',
      { replicas: 0, timeoutMs: 100 },
      /durability.replicas must be a positive integer/,
    ],
    ['no timeout (WAIT 0 blocks forever)', { replicas: 1, timeoutMs: 0 }, /durability.timeoutMs/],
    [
      'a wait as long as the whole request',
      { replicas: 1, timeoutMs: 1000 },
      /durability.timeoutMs \(1000\) must be below operationTimeoutMs \(1000\)/,
    ],
  ])('refuses durability with %s', async (_, durability, message) => {
    // operationTimeoutMs left to the module's default (1000), not the test helper's.
    const started = createTestApp({
      appName: APP,
      redis: primary.url,
      durability,
      operationTimeoutMs: undefined,
    });
    await expect(started).rejects.toThrow(InvalidTenantSessionOptionsError);
    await expect(started).rejects.toThrow(message);
  });

  it('refuses durability on the embedded store', async () => {
    await expect(
      createTestApp({ appName: APP, redis: undefined, durability: DURABILITY }),
    ).rejects.toThrow(/durability needs Redis with replicas/);
  });
});
