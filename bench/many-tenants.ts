/**
 * Target 3: heap against the number of tenants. A server (its own process, --expose-gc) gets one
 * login in each of 10,000 tenants through HTTP, so each tenant's store and session middleware is
 * built by the registry as in production; the heap is sampled after GC at checkpoints, once with
 * the default bound (maxCachedTenants 1,000) and once with a bound above the tenant count.
 */
import type { HeapSample } from './apps/many-tenants-server.js';
import { startChildServer } from './child-server.js';
import { httpRequest, logIn } from './http-load.js';

export const CHECKPOINTS = [0, 500, 1_000, 2_000, 5_000, 10_000];
const CONCURRENCY = 8;

export interface ManyTenantsRun {
  maxCachedTenants: number;
  samples: { tenants: number; heapUsedBytes: number; cachedTenants: number }[];
  /** Heap growth per tenant while the cache fills (0 → min(bound, 1,000) tenants). */
  bytesPerTenantBelowBound: number;
  /** Heap growth per tenant from 2,000 to 10,000 tenants. */
  bytesPerTenantFrom2000To10000: number;
  /** The first tenant, long evicted from a bounded cache, still serves its session. */
  firstTenantStillServed: boolean;
}

export async function runManyTenants(o: {
  redisUrl: string;
  bounds: number[];
  log: (line: string) => void;
}): Promise<ManyTenantsRun[]> {
  const runs: ManyTenantsRun[] = [];
  for (const bound of o.bounds) runs.push(await measureBound(o.redisUrl, bound, o.log));
  return runs;
}

async function measureBound(
  redisUrl: string,
  bound: number,
  log: (line: string) => void,
): Promise<ManyTenantsRun> {
  const server = await startChildServer('apps/many-tenants-server.js', redisUrl, {
    execArgv: ['--expose-gc'],
    env: { BENCH_MAX_CACHED_TENANTS: String(bound) },
  });
  try {
    const tenant = (i: number) => `t${bound}-${String(i).padStart(5, '0')}`;
    const cookies: string[] = [];
    // Warm the code paths (and JIT) on one tenant before the baseline sample.
    await logIn(server.port, 'warm-up', { 'x-tenant': `warm-${bound}` });
    const samples: ManyTenantsRun['samples'] = [];
    let created = 0;
    for (const checkpoint of CHECKPOINTS) {
      while (created < checkpoint) {
        const batch = Array.from(
          { length: Math.min(CONCURRENCY, checkpoint - created) },
          (_, k) => created + k + 1,
        );
        cookies.push(
          ...(await Promise.all(
            batch.map((i) => logIn(server.port, `user-${i}`, { 'x-tenant': tenant(i) })),
          )),
        );
        created += batch.length;
      }
      const sample = await server.ask<HeapSample>({ type: 'heap' });
      samples.push({
        tenants: checkpoint,
        heapUsedBytes: sample.heapUsed,
        cachedTenants: sample.cachedTenants,
      });
      log(
        `  bound ${bound}: ${String(checkpoint).padStart(6)} tenants  heap ${mb(sample.heapUsed)} MB` +
          `  cached ${sample.cachedTenants}`,
      );
    }
    const first = await httpRequest(server.port, {
      method: 'GET',
      path: '/me',
      headers: { 'x-tenant': tenant(1), cookie: cookies[0] },
    });
    const at = (n: number) => samples.find((s) => s.tenants === n)!.heapUsedBytes;
    const filled = Math.min(bound, 1_000);
    return {
      maxCachedTenants: bound,
      samples,
      bytesPerTenantBelowBound: (at(filled) - at(0)) / filled,
      bytesPerTenantFrom2000To10000: (at(10_000) - at(2_000)) / 8_000,
      firstTenantStillServed: first.status === 200 && JSON.parse(first.body).user === 'user-1',
    };
  } finally {
    await server.stop();
  }
}

function mb(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}
