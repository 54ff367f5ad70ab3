/**
 * `npm run bench`: every benchmark in one run against one throwaway redis-server, printed and
 * written to bench/results/latest.{json,md}. `npm run bench -- --only=http,pairs,tenants,revocation,listing,scale,visibility,failover`
 * runs a subset and keeps the other parts' figures from the last report; BENCH_ROUNDS,
 * BENCH_WARMUP_SECONDS and BENCH_MEASURE_SECONDS tune the HTTP and listing parts, BENCH_APPS
 * picks the HTTP part's servers (`BENCH_APPS=c,g`: the module without and with the OpenTelemetry
 * SDK; `BENCH_LINKS=loopback` its links), BENCH_DELAY_MS
 * the delay (each way) of the HTTP part's second link, BENCH_FAILOVER_ROUNDS the failover part
 * (which starts Sentinel and Cluster servers of its own), BENCH_PIN=1 gives the HTTP part's
 * servers a core of their own (cpu-pinning.ts). BENCH_PAIRS (`n/m,p/m`), BENCH_PAIR_SLICES and
 * BENCH_PAIR_SLICE_SECONDS set the paired part (paired-ratios.ts).
 */
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { startRedisServer } from '../test/support/redis-server.mjs';
import { cpuPinning, onHelperCores } from './cpu-pinning.js';
import { runFailover } from './failover.js';
import { APPS, runHttpComparison, type AppId, type LinkId } from './http-comparison.js';
import { runManyTenants } from './many-tenants.js';
import { parsePairs, runPairedRatios } from './paired-ratios.js';
import { runListingUnderLoad } from './listing-under-load.js';
import {
  BENCH_PARTS,
  machineInfo,
  mergeWithLatest,
  summarizeHttp,
  writeReport,
  type BenchReport,
} from './report.js';
import { runRevocationAtScale } from './revocation-at-scale.js';
import { runRevocationVisibility } from './revocation-visibility.js';
import { runScale } from './scale.js';

const PARTS = Object.keys(BENCH_PARTS);
const only = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const unknown = only?.filter((part) => !PARTS.includes(part)) ?? [];
if (unknown.length > 0) throw new Error(`unknown part(s) ${unknown.join(', ')}; expected ${PARTS}`);
const wanted = (part: string) => !only || only.includes(part);

const pinning = cpuPinning();
const settings = {
  rounds: Number(process.env.BENCH_ROUNDS ?? 2),
  connections: 20,
  warmupSeconds: Number(process.env.BENCH_WARMUP_SECONDS ?? 2),
  measureSeconds: Number(process.env.BENCH_MEASURE_SECONDS ?? 8),
  tenantBounds: '1000, 20000',
  otherKeys: 1_000_000,
  sessionsRevoked: 1_000,
  revocationRepetitions: 5,
  scaleSessions: 10_000,
  visibilityRounds: 1000,
  delayMs: Number(process.env.BENCH_DELAY_MS ?? 0.25),
  listingSessions: 30_000,
  listingConnections: 10,
  failoverRounds: Number(process.env.BENCH_FAILOVER_ROUNDS ?? 2),
  pairs: process.env.BENCH_PAIRS ?? 'n/m,m/d,p/q,p/m',
  pairSlices: Number(process.env.BENCH_PAIR_SLICES ?? 6),
  pairSliceSeconds: Number(process.env.BENCH_PAIR_SLICE_SECONDS ?? 1.5),
  pinning: pinning
    ? `servers on core ${pinning.server}, Redis and the load generator on ${pinning.helpers}`
    : 'none',
};

/** A comma-separated list from the environment, each name checked against `known`. */
function benchList<T extends string>(name: string, known: T[]): T[] {
  const given = process.env[name]?.split(',');
  if (!given) return known;
  const unknownNames = given.filter((item) => !known.includes(item as T));
  if (unknownNames.length > 0)
    throw new Error(`${name}: unknown ${unknownNames}; expected ${known}`);
  return given as T[];
}

const started = performance.now();
const log = (line: string) =>
  console.log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}`);

const server = await startRedisServer();
const redis = new Redis(server.url);
try {
  const report: BenchReport = {
    generatedAt: new Date().toISOString(),
    machine: await machineInfo(redis),
    settings,
  };
  if (wanted('http')) {
    log(
      'HTTP: (ref) Express, (a) Express + connect-redis, (b) Nest, (c) Nest + this module, ' +
        `(d) Nest + connect-redis, (e) (c) with the near cache, (f) (d) on MemoryStore, ` +
        `(g) (c) with the OpenTelemetry SDK, (m) one-tenant Nest + this module with (d)'s routes, ` +
        `(n) (m) with the near cache, (p) (m) on Fastify, (q) Nest + Fastify + @fastify/session; ` +
        `Redis on loopback and behind a ${settings.delayMs} ms delay`,
    );
    const compare = () =>
      runHttpComparison({
        redis,
        redisUrl: server.url,
        ...settings,
        links: benchList<LinkId>('BENCH_LINKS', ['loopback', 'delayed']),
        apps: benchList<AppId>('BENCH_APPS', Object.keys(APPS) as AppId[]),
        serverCores: pinning?.server,
        log,
      });
    const redisPid = async () => Number(/^process_id:(\d+)/m.exec(await redis.info('server'))![1]);
    const phases = pinning
      ? await onHelperCores(pinning, [process.pid, await redisPid()], compare)
      : await compare();
    report.http = { summary: summarizeHttp(phases), phases };
  }
  if (wanted('pairs')) {
    log(`Paired ratios: ${settings.pairs}, both servers up at once, taking turns`);
    const pairs = () =>
      runPairedRatios({
        ...settings,
        pairs: parsePairs(settings.pairs),
        links: benchList<LinkId>('BENCH_LINKS', ['loopback', 'delayed']),
        slices: settings.pairSlices,
        sliceSeconds: settings.pairSliceSeconds,
        serverCores: pinning?.server,
        log,
      });
    // Their Redis servers and delay proxies, started from here, inherit the helper cores.
    report.pairs = pinning ? await onHelperCores(pinning, [process.pid], pairs) : await pairs();
  }
  if (wanted('tenants')) {
    log('Memory: one session in each of 10,000 tenants');
    await redis.flushall();
    report.manyTenants = await runManyTenants({
      redisUrl: server.url,
      bounds: [1_000, 20_000],
      log,
    });
  }
  if (wanted('revocation')) {
    log('Revocation: 1,000 sessions of one user among 1,000,000 other keys');
    report.revocation = await runRevocationAtScale({
      redis,
      redisUrl: server.url,
      otherKeys: settings.otherKeys,
      sessions: settings.sessionsRevoked,
      repetitions: settings.revocationRepetitions,
      log,
    });
    await redis.flushall();
  }
  if (wanted('scale')) {
    log(
      `Scale: Redis memory per session and index entry, commands per request, single and Cluster`,
    );
    await redis.flushall();
    report.scale = await runScale({
      redis,
      redisUrl: server.url,
      sessions: settings.scaleSessions,
      log,
    });
  }
  if (wanted('visibility')) {
    log('Revocation visibility: revokeAll on one process, the first 401 on another');
    report.visibility = await runRevocationVisibility({
      redisUrl: server.url,
      rounds: settings.visibilityRounds,
      log,
    });
  }
  if (wanted('listing')) {
    log(`Listing: one user with 30,000 sessions pages through them; another tenant's latency`);
    report.listing = await runListingUnderLoad({
      redis,
      redisUrl: server.url,
      sessions: settings.listingSessions,
      connections: settings.listingConnections,
      rounds: settings.rounds,
      warmupSeconds: settings.warmupSeconds,
      measureSeconds: settings.measureSeconds,
      log,
    });
  }
  if (wanted('failover')) {
    log('Failover: Sentinel (kill -9, SENTINEL FAILOVER) and Cluster (kill -9), durability off/on');
    report.failover = await runFailover({
      rounds: settings.failoverRounds,
      downAfterMs: 2000,
      costUsers: 8,
      costSeconds: 5,
      log,
    });
  }
  const results = new URL('../../bench/results/', import.meta.url);
  const markdown = await writeReport(
    only ? await mergeWithLatest(report, results) : report,
    results,
  );
  console.log(`\n${markdown}`);
  log('written to bench/results/latest.json and bench/results/latest.md');
} finally {
  redis.disconnect();
  await server.stop();
}
