/**
 * The module with tenants by `x-tenant` header, run under `--expose-gc` by many-tenants.ts:
 * on a "sample" message it collects garbage and answers the heap in use and how many tenants
 * the registry keeps built.
 */
import { TenantSessionRegistry } from 'nestjs-tenant-session';
import { announceReady, benchServerEnv, type BenchMessage } from './bench-app.js';
import { createTenantSessionApp } from './tenant-session-app.js';

export interface HeapSample {
  heapUsed: number;
  cachedTenants: number;
}

const { port, redisUrl } = benchServerEnv();
const gc = globalThis.gc;
if (!gc) throw new Error('run with node --expose-gc');

const app = await createTenantSessionApp({
  tenant: { byHeader: 'x-tenant' },
  redis: redisUrl,
  maxCachedTenants: Number(process.env.BENCH_MAX_CACHED_TENANTS),
});
await app.listen(port, '127.0.0.1');
const registry = app.get(TenantSessionRegistry);

process.on('message', (message: BenchMessage) => {
  if (message.type !== 'heap') return;
  // Several passes: objects freed by one pass (weak maps, finalizers) go in the next.
  for (let i = 0; i < 4; i++) gc();
  const sample: HeapSample = {
    heapUsed: process.memoryUsage().heapUsed,
    cachedTenants: registry.cachedTenants,
  };
  process.send?.(sample);
});
announceReady(() => app.close());
