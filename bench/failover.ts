/**
 * Failover under traffic: Sentinel (a primary, two replicas, three sentinels) killed (SIGKILL)
 * and failed over on request (SENTINEL FAILOVER), and a Cluster of 3 masters + 3 replicas with
 * one master killed, each with `durability` off and on. Four virtual users log in, write and
 * read, and a loop revokes other devices (test/support/failover-traffic.ts); afterwards every
 * acknowledged login, write and revocation is checked. Then the cost of durability on a quiet
 * Sentinel group: the same closed-loop traffic with it off and on, interleaved.
 */
import { Cluster } from 'ioredis';
import type { TenantSessionDurability, TenantSessionModuleOptions } from 'nestjs-tenant-session';
import { performance } from 'node:perf_hooks';
import {
  audit,
  serviceResumed,
  startTraffic,
  type TrafficAudit,
} from '../test/support/failover-traffic.js';
import { startRedisCluster } from '../test/support/redis-cluster.mjs';
import { startSentinelGroup } from '../test/support/redis-sentinel.mjs';
import { createTestApp, type TestApp } from '../test/support/test-app.js';
import { Visitor } from '../test/support/visitor.js';
import { median } from './median.js';

export interface FailoverRun {
  topology: 'Sentinel' | 'Cluster';
  fault: 'kill -9' | 'SENTINEL FAILOVER';
  durability: boolean;
  /** Whether the app served again within a minute of the fault (the traffic stopped anyway). */
  resumed: boolean;
  requests: number;
  /** 503 answers, and the time from the first to the last of them (ms). */
  unavailable: number;
  windowMs: number;
  /** Answers other than 2xx, 401 and 503 (500s). */
  unexpected: number;
  slowestMs: number;
  acknowledgedLogins: number;
  revokedSessions: number;
  audit: TrafficAudit;
}

export interface RouteCost {
  requestsPerSecond: number;
  loginP50Ms: number;
  loginP99Ms: number;
  writeP50Ms: number;
  writeP99Ms: number;
}

export interface FailoverBench {
  settings: {
    downAfterMs: number;
    clusterNodeTimeoutMs: number;
    operationTimeoutMs: number;
    sentinelDurability: TenantSessionDurability;
    clusterDurability: TenantSessionDurability;
    rounds: number;
    costUsers: number;
    costSeconds: number;
  };
  runs: FailoverRun[];
  cost: { off: RouteCost; on: RouteCost };
}

const OPERATION_TIMEOUT_MS = 1000;
const FAILOVER_AFTER_MS = 2000;
const TRAFFIC_AFTER_RESUME_MS = 1000;
/** Every replica (see docs/sentinel-and-cluster.md: a graceful failover keeps the others on the old primary). */
const SENTINEL_DURABILITY = { replicas: 2, timeoutMs: 200 };
const CLUSTER_DURABILITY = { replicas: 1, timeoutMs: 200 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runFailover({
  rounds,
  downAfterMs,
  costUsers,
  costSeconds,
  log,
}: {
  rounds: number;
  downAfterMs: number;
  costUsers: number;
  costSeconds: number;
  log: (line: string) => void;
}): Promise<FailoverBench> {
  const runs: FailoverRun[] = [];
  let cost: FailoverBench['cost'];
  let app = 0;
  const measure = async (
    run: Pick<FailoverRun, 'topology' | 'fault' | 'durability'>,
    redis: TenantSessionModuleOptions['redis'],
    durability: TenantSessionDurability | undefined,
    fault: () => Promise<unknown>,
  ) => {
    const t = await createTestApp({
      appName: `failover-${++app}`,
      redis,
      durability,
      operationTimeoutMs: OPERATION_TIMEOUT_MS,
    });
    try {
      const traffic = startTraffic({ http: t.http, prefix: `run${app}` });
      await sleep(FAILOVER_AFTER_MS);
      await fault();
      const resumed = await serviceResumed(t.http).then(
        () => true,
        () => false,
      );
      await sleep(TRAFFIC_AFTER_RESUME_MS);
      const tally = await traffic.stop();
      const { first, last, count } = tally.unavailable;
      const result: FailoverRun = {
        ...run,
        resumed,
        requests: tally.requests,
        unavailable: count,
        windowMs: first === undefined || last === undefined ? 0 : Math.round(last - first),
        unexpected: tally.unexpected.length,
        slowestMs: Math.round(tally.slowestMs),
        acknowledgedLogins: tally.logins.length,
        revokedSessions: tally.revoked.length,
        audit: await audit(tally),
      };
      runs.push(result);
      log(
        `${run.topology}, ${run.fault}, durability ${run.durability ? 'on' : 'off'}: ` +
          `${count} × 503 over ${result.windowMs} ms, lost ${result.audit.lostLogins} logins / ` +
          `${result.audit.lostWrites} writes, ${result.audit.undoneRevocations} revocations undone` +
          (resumed ? '' : ', DID NOT SERVE AGAIN within a minute'),
      );
    } finally {
      await t.close();
    }
  };

  const group = await startSentinelGroup({ replicas: 2, downAfterMs });
  try {
    const redis = { sentinels: group.sentinels, name: group.name };
    for (let round = 0; round < rounds; round++) {
      for (const durable of [false, true]) {
        const durability = durable ? SENTINEL_DURABILITY : undefined;
        await group.settled();
        await measure(
          { topology: 'Sentinel', fault: 'kill -9', durability: durable },
          redis,
          durability,
          // With every replica required, writes wait for the killed server to be back.
          async () => {
            await group.kill();
            if (durable) await group.settled();
          },
        );
        await group.settled();
        await measure(
          { topology: 'Sentinel', fault: 'SENTINEL FAILOVER', durability: durable },
          redis,
          durability,
          () => group.failover(),
        );
      }
    }
    await group.settled();
    cost = await durabilityCost(redis, costUsers, costSeconds, log);
  } finally {
    await group.stop();
  }

  const cluster = await startRedisCluster({ replicas: 1, nodeTimeoutMs: downAfterMs });
  const clients: Cluster[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      for (const durable of [false, true]) {
        const client = new Cluster(cluster.nodes, {
          enableOfflineQueue: false,
          redisOptions: { commandTimeout: OPERATION_TIMEOUT_MS },
        });
        client.on('error', () => undefined);
        clients.push(client);
        await measure(
          { topology: 'Cluster', fault: 'kill -9', durability: durable },
          client,
          durable ? CLUSTER_DURABILITY : undefined,
          async () => {
            const [victim] = await cluster.masters();
            await cluster.kill(victim);
            await cluster.restart(victim);
          },
        );
      }
    }
  } finally {
    for (const client of clients) client.disconnect();
    await cluster.stop();
  }

  return {
    settings: {
      downAfterMs,
      clusterNodeTimeoutMs: downAfterMs,
      operationTimeoutMs: OPERATION_TIMEOUT_MS,
      sentinelDurability: SENTINEL_DURABILITY,
      clusterDurability: CLUSTER_DURABILITY,
      rounds,
      costUsers,
      costSeconds,
    },
    runs,
    cost,
  };
}

/**
 * `users` closed loops (log in, then three writes each followed by a read) for `seconds`, on
 * an app with durability off and one with it on, interleaved twice; medians of the rounds.
 */
async function durabilityCost(
  redis: TenantSessionModuleOptions['redis'],
  users: number,
  seconds: number,
  log: (line: string) => void,
): Promise<FailoverBench['cost']> {
  const apps = {
    off: await createTestApp({ appName: 'cost-off', redis }),
    on: await createTestApp({ appName: 'cost-on', redis, durability: SENTINEL_DURABILITY }),
  };
  try {
    const samples: Record<'off' | 'on', RouteCost[]> = { off: [], on: [] };
    for (let round = 0; round < 2; round++) {
      for (const mode of ['off', 'on'] as const) {
        samples[mode].push(await closedLoop(apps[mode], users, seconds));
        const last = samples[mode].at(-1)!;
        log(
          `durability ${mode}: ${last.requestsPerSecond.toFixed(0)} req/s, login p50 ` +
            `${last.loginP50Ms.toFixed(1)} ms, write p50 ${last.writeP50Ms.toFixed(1)} ms`,
        );
      }
    }
    const medianOf = (runs: RouteCost[]): RouteCost => ({
      requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
      loginP50Ms: median(runs.map((r) => r.loginP50Ms)),
      loginP99Ms: median(runs.map((r) => r.loginP99Ms)),
      writeP50Ms: median(runs.map((r) => r.writeP50Ms)),
      writeP99Ms: median(runs.map((r) => r.writeP99Ms)),
    });
    return { off: medianOf(samples.off), on: medianOf(samples.on) };
  } finally {
    await apps.off.close();
    await apps.on.close();
  }
}

async function closedLoop(t: TestApp, users: number, seconds: number): Promise<RouteCost> {
  const logins: number[] = [];
  const writes: number[] = [];
  let requests = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  const timed = async (into: number[] | undefined, call: () => Promise<{ status: number }>) => {
    const before = performance.now();
    const res = await call();
    requests++;
    if (res.status >= 300) throw new Error(`unexpected ${res.status} while measuring`);
    into?.push(performance.now() - before);
  };
  await Promise.all(
    Array.from({ length: users }, async (_, i) => {
      while (performance.now() < until) {
        const visitor = new Visitor(t.http, 'acme.test', `cost-${i}`);
        await timed(logins, () => visitor.post('/login', { user: `cost-${i}` }));
        for (let k = 0; k < 3; k++) {
          await timed(writes, () => visitor.post('/increment'));
          await timed(undefined, () => visitor.get('/me'));
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return {
    requestsPerSecond: requests / elapsed,
    loginP50Ms: percentile(logins, 0.5),
    loginP99Ms: percentile(logins, 0.99),
    writeP50Ms: percentile(writes, 0.5),
    writeP99Ms: percentile(writes, 0.99),
  };
}

function percentile(values: number[], share: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))] ?? 0;
}
