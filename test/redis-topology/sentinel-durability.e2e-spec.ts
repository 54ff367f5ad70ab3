// Revocations on Sentinel wait for every replica the primary has, whatever `durability` asks of
// the other writes: a failover may promote the one replica that had not confirmed a revocation,
// and the revoked session would serve again (security review, issue 18). Here `durability` asks
// for one replica while the primary has two, before a failover and again once its old primary
// is back as a replica.
import { Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import type request from 'supertest';
import { serviceResumed, startTraffic, type Traffic } from '../support/failover-traffic.js';
import { CommandMonitor, script, type MonitoredCommand } from '../support/monitor.js';
import { startSentinelGroup, type SentinelGroup } from '../support/redis-sentinel.mjs';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';
import { sessionHandle } from '../../lib/session/session-handle.js';

const APP = 'sentinel-durability';
/** Below the replica count on purpose; a WAIT's margin for a machine busy with other suites. */
const DURABILITY = { replicas: 1, timeoutMs: 1000 };
const REPLICAS = 2;
const OPERATION_TIMEOUT_MS = 3000;
/** Not a performance figure: the line between "answered at its deadline" and "hung". */
const HANG_LIMIT_MS = OPERATION_TIMEOUT_MS + 5000;
/** Acknowledged revocations the traffic makes before a failover, and after it. */
const REVOCATIONS_EACH_SIDE = 10;
const TRAFFIC_WAIT_MS = 30_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `ready()` holds, checked every 50 ms; fails after `limitMs`. */
async function until(ready: () => boolean, limitMs: number, what: string): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!ready()) {
    if (performance.now() > deadline) throw new Error(`${what} within ${limitMs} ms`);
    await sleep(50);
  }
}

/** The answer to `send`, sent again while it is 503, for at most 10 s. */
async function settled(send: () => Promise<request.Response>): Promise<request.Response> {
  const deadline = performance.now() + 10_000;
  for (;;) {
    const res = await send();
    if (res.status !== 503 || performance.now() > deadline) return res;
    await sleep(100);
  }
}

/** The step a MONITOR line names: a script's name, else the command's. */
function step(line: string): string {
  return (
    /tenant-session:([\w-]+)|^evalsha \(([\w-]+)\)/.exec(line)?.slice(1).find(Boolean) ??
    line.split(' ')[0]
  );
}

/** The app's writes, and WAIT; the rest (pings, INFO, PUBLISH, the sentinels') is left out. */
const WRITES = new Set(['set', 'del', 'zrem', 'eval', 'evalsha', 'wait']);

describe(`on Sentinel, a primary with ${REPLICAS} replicas and durability ${JSON.stringify(DURABILITY)}`, () => {
  let group: SentinelGroup;
  let t: TestApp;

  beforeAll(async () => {
    group = await startSentinelGroup({ replicas: REPLICAS, downAfterMs: 1000 });
    t = await createTestApp({
      appName: APP,
      operationTimeoutMs: OPERATION_TIMEOUT_MS,
      // The traffic logs each worker's user in again and again: no cap may end the oldest.
      maxSessionsPerUser: false,
      redis: { sentinels: group.sentinels, name: group.name },
      durability: DURABILITY,
    });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await group?.stop();
  });

  it('every revocation waits for both replicas (WAIT 2), not the 1 durability asks; other writes wait for 1', async () => {
    await group.settled();
    const devices: Visitor[] = [];
    for (const name of ['laptop', 'phone', 'tablet', 'kiosk']) {
      const device = new Visitor(t.http, 'acme.test', name);
      expect((await device.post('/login', { user: 'alice' })).status).toBe(201);
      devices.push(device);
    }
    const [laptop, phone] = devices;
    const monitor = await CommandMonitor.open(`redis://127.0.0.1:${await group.primaryPort()}`);
    try {
      await monitor.barrier();
      monitor.reset();

      expect((await laptop.post('/increment')).body).toEqual({ count: 1 });
      const handle = sessionHandle(phone.sessionId()!);
      expect((await laptop.delete(`/sessions/${handle}`)).body).toEqual({ revoked: 1 });
      expect((await laptop.post('/sessions/revoke-others')).body).toEqual({ revoked: 2 });
      expect(await t.sessions.revokeAll('acme', 'alice')).toBe(1);
      await monitor.barrier();

      const writes = monitor.commands().filter((line) => WRITES.has(line.split(' ')[0]));
      const waits = writes.flatMap((line, i) =>
        line.startsWith('wait ') ? [`${step(writes[i - 1] ?? '')}: ${line}`] : [],
      );
      expect(waits).toEqual([
        // the write (SET XX): durability's one replica
        'set: wait 1',
        // revoking one session: DEL, then ZREM
        'del: wait 2',
        'zrem: wait 2',
        // revoking the others: not-before, DEL, ZREM
        'entries: wait 2',
        'del: wait 2',
        'zrem: wait 2',
        // revokeAll: the same
        'entries: wait 2',
        'del: wait 2',
        'zrem: wait 2',
      ]);
    } finally {
      monitor.close();
    }
  }, 60_000);

  it('a graceful SENTINEL FAILOVER under revocation traffic leaves no acknowledged revocation serving', async () => {
    await group.settled();
    const traffic: Traffic = startTraffic({
      http: t.http,
      prefix: 'failover',
      workers: 1,
      revokers: 6,
    });
    const { tally } = traffic;
    const revocations = async (more: number, when: string) => {
      const wanted = tally.revoked.length + more;
      await until(
        () => tally.revoked.length >= wanted,
        TRAFFIC_WAIT_MS,
        `too few revocations ${when}`,
      );
    };
    /** Where the failover fell in the order revocations were acknowledged. */
    let from = 0;
    let to = 0;
    try {
      await revocations(REVOCATIONS_EACH_SIDE, 'before the failover');
      from = tally.revoked.length;
      await group.failover();
      await serviceResumed(t.http);
      to = tally.revoked.length;
      await revocations(REVOCATIONS_EACH_SIDE, 'after the failover');
    } finally {
      // Also when a step failed: traffic left running would spill into the next test.
      await traffic.stop();
    }

    expect(tally.unexpected).toEqual([]);
    expect(tally.slowestMs).toBeLessThan(HANG_LIMIT_MS);
    const undone: string[] = [];
    for (const [i, visitor] of tally.revoked.entries()) {
      // Read until it answers other than 503 (the store settling).
      const res = await settled(() => visitor.get('/me'));
      if (res.status === 401) continue;
      const when = i < from ? 'before' : i < to ? 'during' : 'after';
      undone.push(
        `revocation ${i} of ${tally.revoked.length} (${when} the failover): ${res.status}`,
      );
    }
    expect(undone).toEqual([]);
  }, 60_000);

  it('once the old primary of a failover is back as a replica, the next revocation waits for both replicas again', async () => {
    await group.settled();
    const traffic = startTraffic({ http: t.http, prefix: 'rejoin', workers: 1, revokers: 6 });
    let monitor: CommandMonitor | undefined;
    try {
      const { tally } = traffic;
      await until(
        () => tally.revoked.length >= REVOCATIONS_EACH_SIDE,
        TRAFFIC_WAIT_MS,
        'too few revocations',
      );
      const old = await group.failover();
      await serviceResumed(t.http);
      const port = await group.primaryPort();
      const primary = new Redis(port, '127.0.0.1');
      const online = async () =>
        ((await primary.info('replication')).match(/^slave\d+:.*state=online/gm) ?? []).length;
      try {
        // The app revokes on the new primary while the old one is not back yet (fewer replicas).
        const before = tally.revoked.length;
        await until(
          () => tally.revoked.length >= before + REVOCATIONS_EACH_SIDE,
          TRAFFIC_WAIT_MS,
          'no revocations',
        );
        const demoted = new Redis(old, '127.0.0.1');
        await demoted.replicaof('127.0.0.1', port);
        demoted.disconnect();
        monitor = await CommandMonitor.open(`redis://127.0.0.1:${port}`);
        const deadline = performance.now() + 20_000;
        while ((await online()) < REPLICAS) {
          if (performance.now() > deadline) throw new Error('the old primary did not rejoin');
          await sleep(20);
        }
      } finally {
        primary.disconnect();
      }

      // Both replicas are online now, and a failover may promote either: the first revocation
      // seen from here on (its not-before, the ENTRIES script: only a revocation's is followed
      // by WAIT) must wait for both.
      const last = new Map<string, MonitoredCommand>();
      const wait = await monitor.when(
        (c) => {
          const previous = last.get(c.source);
          last.set(c.source, c);
          return c.name === 'wait' && previous !== undefined && script('entries')(previous);
        },
        () => undefined,
        { label: "a revocation's WAIT" },
      );
      expect(`wait ${wait.args[0]}`).toBe(`wait ${REPLICAS}`);
    } finally {
      monitor?.close();
      await traffic.stop();
    }
  }, 60_000);
});
