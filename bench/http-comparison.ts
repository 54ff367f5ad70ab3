/**
 * Target 2: the same routes served by (a) Express + express-session + connect-redis,
 * (b) Nest without sessions, (c) Nest with this module and several tenants, (d) Nest with
 * express-session + connect-redis (what Nest users wire up today), (e) (c) with the near cache
 * and (f) (d) on express-session's in-process MemoryStore, (g) (c) with the OpenTelemetry SDK
 * recording the module's metrics and spans, and the like-for-like pair: (m) a fresh one-tenant
 * Nest app on this module with only (d)'s routes, (n) (m) with the near cache; and on Fastify,
 * (p) (m) served with `FastifyAdapter` and (q) Nest + Fastify + `@fastify/session` on
 * connect-redis (what Nest users on Fastify wire up today); each in its own child process, for a
 * logged-in read-only request and a session-modifying one, with Redis on loopback and behind a
 * delay proxy (a Redis a network hop away, where round trips show).
 * Per phase: log in (one cookie per tenant), warm up, RESETSTAT, measure, read Redis counters,
 * then count round trips under MONITOR over a few untimed requests.
 */
import type { Redis } from 'ioredis';
import { BENCH_HOSTS } from './apps/bench-app.js';
import { startChildServer } from './child-server.js';
import { pinProcess } from './cpu-pinning.js';
import { httpRequest, logIn, runLoad, type LoadRequest, type LoadResult } from './http-load.js';
import { redisWorkSince, resetRedisStats, roundTripsPerRequest } from './redis-commands.js';

export type AppId = 'ref' | 'a' | 'b' | 'c' | 'd' | 'e' | 'f' | 'g' | 'm' | 'n' | 'p' | 'q' | 'r';
export type ScenarioId = 'read' | 'modify' | 'read-light';
/** How the servers reach Redis: directly on loopback, or through the delay proxy. */
export type LinkId = 'loopback' | 'delayed';

interface BenchApp {
  label: string;
  script: string;
  env?: Record<string, string>;
  hosts: string[];
  sessions: boolean;
}

export const APPS: Record<AppId, BenchApp> = {
  ref: {
    label: 'Express, no sessions (reference)',
    script: 'apps/express-plain.js',
    hosts: ['app.bench.test'],
    sessions: false,
  },
  a: {
    label: 'Express + express-session + connect-redis (1 tenant)',
    script: 'apps/express-connect-redis.js',
    hosts: ['app.bench.test'],
    sessions: true,
  },
  b: {
    label: 'Nest, no sessions',
    script: 'apps/nest-plain.js',
    hosts: ['app.bench.test'],
    sessions: false,
  },
  c: {
    label: `Nest + nestjs-tenant-session (${Object.keys(BENCH_HOSTS).length} tenants by Host)`,
    script: 'apps/nest-tenant-session.js',
    hosts: Object.keys(BENCH_HOSTS),
    sessions: true,
  },
  d: {
    label: 'Nest + express-session + connect-redis (1 tenant)',
    script: 'apps/nest-connect-redis.js',
    hosts: ['app.bench.test'],
    sessions: true,
  },
  e: {
    label: `(c) with the near cache on`,
    script: 'apps/nest-tenant-session.js',
    env: { BENCH_NEAR_CACHE: 'on' },
    hosts: Object.keys(BENCH_HOSTS),
    sessions: true,
  },
  f: {
    label: "(d) on express-session's in-process MemoryStore (no Redis, the floor for (e))",
    script: 'apps/nest-connect-redis.js',
    env: { BENCH_SESSION_STORE: 'memory' },
    hosts: ['app.bench.test'],
    sessions: true,
  },
  g: {
    label: '(c) with the OpenTelemetry SDK recording its metrics and spans',
    script: 'apps/nest-tenant-session.js',
    env: { BENCH_OTEL: 'sdk' },
    hosts: Object.keys(BENCH_HOSTS),
    sessions: true,
  },
  m: {
    label: "Nest + nestjs-tenant-session, minimal: 1 tenant, (d)'s routes (like for like with (d))",
    script: 'apps/nest-tenant-session-minimal.js',
    hosts: ['app.bench.test'],
    sessions: true,
  },
  n: {
    label: '(m) with the near cache on',
    script: 'apps/nest-tenant-session-minimal.js',
    env: { BENCH_NEAR_CACHE: 'on' },
    hosts: ['app.bench.test'],
    sessions: true,
  },
  p: {
    label: '(m) on Fastify: Nest + FastifyAdapter + nestjs-tenant-session (like for like with (q))',
    script: 'apps/nest-tenant-session-minimal.js',
    env: { BENCH_PLATFORM: 'fastify' },
    hosts: ['app.bench.test'],
    sessions: true,
  },
  q: {
    label: 'Nest + FastifyAdapter + @fastify/session + connect-redis (1 tenant)',
    script: 'apps/nest-fastify-session.js',
    hosts: ['app.bench.test'],
    sessions: true,
  },
  r: {
    label: 'Nest + FastifyAdapter, no sessions: the ceiling on Fastify',
    script: 'apps/nest-plain.js',
    env: { BENCH_PLATFORM: 'fastify' },
    hosts: ['app.bench.test'],
    sessions: false,
  },
};

/** Untimed requests per phase under MONITOR, for the round trips per request. */
export const ROUND_TRIP_SAMPLE = 40;

export const SCENARIOS: Record<
  ScenarioId,
  {
    label: string;
    method: 'GET' | 'POST';
    path: string;
    /** Instead of the run's: a light load, where a server is not busy and round trips show. */
    connections?: number;
  }
> = {
  read: { label: 'logged-in read-only (GET /me)', method: 'GET', path: '/me' },
  modify: { label: 'session-modifying (POST /increment)', method: 'POST', path: '/increment' },
  'read-light': {
    label: 'logged-in read-only (GET /me) at a light load, 2 connections',
    method: 'GET',
    path: '/me',
    connections: 2,
  },
};

export interface PhaseResult extends LoadResult {
  app: AppId;
  scenario: ScenarioId;
  link: LinkId;
  round: number;
  redisCommandsPerRequest: number;
  redisCommandsByName: Record<string, number>;
  /** Commands the server sent (MONITOR, those run inside Lua scripts left out). */
  redisRoundTripsPerRequest: number;
  redisCpuMicrosPerRequest: number;
  /** CPU time of the server process per request, µs: less sensitive to a busy machine than req/s. */
  appCpuMicrosPerRequest: number;
  /** Bytes the server process allocated on its heap per request (allocation-meter.ts). */
  allocatedBytesPerRequest: number;
}

export interface HttpComparisonOptions {
  redis: Redis;
  redisUrl: string;
  rounds: number;
  connections: number;
  warmupSeconds: number;
  measureSeconds: number;
  /** Each way, for the `delayed` link. */
  delayMs: number;
  links: LinkId[];
  /** The servers to run (all unless given). */
  apps?: AppId[];
  /** The cores each server is pinned to (BENCH_PIN, cpu-pinning.ts), if any. */
  serverCores?: string;
  log: (line: string) => void;
}

/** Rounds interleave the apps so drift on the machine spreads over all of them. */
export async function runHttpComparison(o: HttpComparisonOptions): Promise<PhaseResult[]> {
  const proxy = await startChildServer('apps/delay-proxy.js', o.redisUrl, {
    env: { BENCH_DELAY_MS: String(o.delayMs) },
  });
  const redisUrls: Record<LinkId, string> = {
    loopback: o.redisUrl,
    delayed: `redis://127.0.0.1:${proxy.port}`,
  };
  try {
    const results: PhaseResult[] = [];
    for (let round = 1; round <= o.rounds; round++) {
      for (const link of o.links) {
        for (const app of o.apps ?? (Object.keys(APPS) as AppId[])) {
          results.push(...(await runPhases(o, app, link, round, redisUrls[link])));
        }
      }
    }
    return results;
  } finally {
    await proxy.stop();
  }
}

/** One server: both scenarios, each warmed up then measured. */
async function runPhases(
  o: HttpComparisonOptions,
  app: AppId,
  link: LinkId,
  round: number,
  redisUrl: string,
): Promise<PhaseResult[]> {
  await o.redis.flushall();
  const server = await startChildServer(APPS[app].script, redisUrl, { env: APPS[app].env });
  if (o.serverCores !== undefined) pinProcess(server.pid, o.serverCores);
  try {
    const requestsFor = await logInEveryHost(server.port, app);
    const results: PhaseResult[] = [];
    for (const scenario of Object.keys(SCENARIOS) as ScenarioId[]) {
      const requests = requestsFor(scenario);
      const connections = SCENARIOS[scenario].connections ?? o.connections;
      await runLoad(server.port, requests, { connections, seconds: o.warmupSeconds });
      const appCpuBefore = await server.cpuMicros();
      const cpuAtReset = await resetRedisStats(o.redis);
      const { result: load, bytes: allocated } = await server.allocated(() =>
        runLoad(server.port, requests, { connections, seconds: o.measureSeconds }),
      );
      const work = await redisWorkSince(o.redis, cpuAtReset);
      const appCpu = (await server.cpuMicros()) - appCpuBefore;
      const roundTrips = await roundTripsPerRequest(o.redisUrl, ROUND_TRIP_SAMPLE, async (i) => {
        const reply = await httpRequest(server.port, {
          ...requests[i % requests.length],
          ...(SCENARIOS[scenario].method === 'POST' && { body: {} }),
        });
        if (reply.status >= 300) throw new Error(`(${app}) ${scenario}: ${reply.status}`);
      });
      const perRequest = (n: number) => (load.requests > 0 ? n / load.requests : 0);
      if (load.errors > 0 || load.non2xx > 0) {
        throw new Error(
          `(${app}) ${scenario} on ${link}: ${load.errors} errors, ${load.non2xx} non-2xx answers`,
        );
      }
      const phase: PhaseResult = {
        app,
        scenario,
        link,
        round,
        ...load,
        redisCommandsPerRequest: perRequest(work.totalCommands),
        redisCommandsByName: Object.fromEntries(
          Object.entries(work.commands).map(([name, n]) => [name, perRequest(n)]),
        ),
        redisRoundTripsPerRequest: roundTrips,
        redisCpuMicrosPerRequest: perRequest(work.cpuMicros),
        appCpuMicrosPerRequest: perRequest(appCpu),
        allocatedBytesPerRequest: perRequest(allocated),
      };
      results.push(phase);
      o.log(
        `  round ${round} ${link.padEnd(8)} (${app}) ${scenario.padEnd(10)} ` +
          `${phase.requestsPerSecond.toFixed(0).padStart(6)} req/s` +
          `  p50 ${phase.p50Ms} ms  p99 ${phase.p99Ms} ms` +
          `  server CPU ${phase.appCpuMicrosPerRequest.toFixed(0)} µs/req` +
          `  ${(phase.allocatedBytesPerRequest / 1024).toFixed(1)} KB/req allocated` +
          `  Redis ${phase.redisCommandsPerRequest.toFixed(2)} cmd/req` +
          `  ${phase.redisRoundTripsPerRequest.toFixed(2)} round trips/req`,
      );
    }
    return results;
  } finally {
    await server.stop();
  }
}

/**
 * Logs one user in on every host of the app, checks the cookie opens GET /me, and returns the
 * request list of a scenario: one request per host, each with its own cookie.
 */
export async function logInEveryHost(
  port: number,
  app: AppId,
): Promise<(scenario: ScenarioId) => LoadRequest[]> {
  const visitors: Record<string, string>[] = [];
  for (const [i, host] of APPS[app].hosts.entries()) {
    const headers: Record<string, string> = { host };
    if (APPS[app].sessions) headers.cookie = await logIn(port, `user-${i + 1}`, { host });
    const check = await httpRequest(port, { method: 'GET', path: '/me', headers });
    if (check.status !== 200) throw new Error(`(${app}) GET /me after login: ${check.status}`);
    visitors.push(headers);
  }
  return (scenario) =>
    visitors.map((headers) => ({
      method: SCENARIOS[scenario].method,
      path: SCENARIOS[scenario].path,
      headers,
    }));
}
