/**
 * Revocation visibility with the near cache: two app processes on one Redis (a single node, then
 * a three-master Cluster), a user logged in on A whose session B has just served (from its
 * cache, when on); A revokes the user (`POST /revoke-all`), and B is asked for the session again
 * and again until it answers 401. Reports the time from A's answer to B's first 401, and how
 * many 200s B gave after A had answered (requests that beat the invalidation message), with the
 * near cache on and off.
 */
import { performance } from 'node:perf_hooks';
import { startRedisCluster } from '../test/support/redis-cluster.mjs';
import { startChildServer } from './child-server.js';
import { httpRequest, logIn } from './http-load.js';

const HOST = 'acme.bench.test';
/** Polls of B per round at most (each a loopback HTTP request). */
const MAX_POLLS = 2_000;

export interface VisibilityFigures {
  rounds: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** B's 200 answers after A's revocation returned, over all rounds. */
  staleAnswers: number;
  /** Rounds in which B answered 200 at least once after the revocation returned. */
  roundsWithStaleAnswers: number;
}

export interface VisibilityPair {
  nearCache: VisibilityFigures;
  withoutNearCache: VisibilityFigures;
}

/** On a single node; `cluster` on three masters (absent from reports before 2026-12-07). */
export interface RevocationVisibility extends VisibilityPair {
  cluster?: VisibilityPair;
}

export async function runRevocationVisibility(o: {
  redisUrl: string;
  rounds: number;
  log: (line: string) => void;
}): Promise<RevocationVisibility> {
  const single = await measurePair('single node', o.rounds, o.log, { redisUrl: o.redisUrl });
  const cluster = await startRedisCluster();
  try {
    const nodes = cluster.nodes.map(({ host, port }) => `${host}:${port}`).join(',');
    const onCluster = await measurePair('cluster', o.rounds, o.log, {
      redisUrl: '',
      env: { BENCH_REDIS_CLUSTER: nodes },
    });
    return { ...single, cluster: onCluster };
  } finally {
    await cluster.stop();
  }
}

async function measurePair(
  topology: string,
  rounds: number,
  log: (line: string) => void,
  redis: { redisUrl: string; env?: Record<string, string> },
): Promise<VisibilityPair> {
  const withoutNearCache = await measure(redis.redisUrl, rounds, { ...redis.env });
  log(`  ${topology}, without the near cache: p99 ${withoutNearCache.p99Ms.toFixed(2)} ms`);
  const nearCache = await measure(redis.redisUrl, rounds, {
    ...redis.env,
    BENCH_NEAR_CACHE: 'on',
  });
  log(
    `  ${topology}, near cache: p50 ${nearCache.p50Ms.toFixed(2)} ms, p99 ` +
      `${nearCache.p99Ms.toFixed(2)} ms, ${nearCache.staleAnswers} stale answers in ` +
      `${nearCache.roundsWithStaleAnswers} rounds`,
  );
  return { nearCache, withoutNearCache };
}

async function measure(
  redisUrl: string,
  rounds: number,
  env: Record<string, string>,
): Promise<VisibilityFigures> {
  const [a, b] = await Promise.all([
    startChildServer('apps/nest-tenant-session.js', redisUrl, { env }),
    startChildServer('apps/nest-tenant-session.js', redisUrl, { env }),
  ]);
  try {
    const times: number[] = [];
    let staleAnswers = 0;
    let roundsWithStaleAnswers = 0;
    for (let round = 0; round < rounds; round++) {
      const user = `visibility-${round}`;
      const headers = { host: HOST, cookie: await logIn(a.port, user, { host: HOST }) };
      for (let i = 0; i < 2; i++) await expectStatus(b.port, headers, 200);
      await httpRequest(a.port, {
        method: 'POST',
        path: '/revoke-all',
        headers: { host: HOST },
        body: { user },
      });
      const revokedAt = performance.now();
      let stale = 0;
      for (let poll = 0; ; poll++) {
        const { status } = await httpRequest(b.port, { method: 'GET', path: '/me', headers });
        if (status === 401) break;
        if (status !== 200 || poll >= MAX_POLLS) throw new Error(`B answered ${status}`);
        stale++;
      }
      times.push(performance.now() - revokedAt);
      staleAnswers += stale;
      if (stale > 0) roundsWithStaleAnswers++;
    }
    times.sort((x, y) => x - y);
    const at = (share: number) =>
      times[Math.min(times.length - 1, Math.floor(share * times.length))];
    return {
      rounds,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      maxMs: times[times.length - 1],
      staleAnswers,
      roundsWithStaleAnswers,
    };
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
}

async function expectStatus(port: number, headers: Record<string, string>, status: number) {
  const reply = await httpRequest(port, { method: 'GET', path: '/me', headers });
  if (reply.status !== status) throw new Error(`expected ${status}, got ${reply.status}`);
}
