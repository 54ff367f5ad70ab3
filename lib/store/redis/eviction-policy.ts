import { infoField } from './redis-info.js';

/**
 * Whether a Redis server may evict the per-user indexes. Index keys carry a TTL (they expire
 * with their last lease), so every `volatile-*` policy can pick them as well as every
 * `allkeys-*` one; only `noeviction`, or no `maxmemory` limit at all, keeps them. Read from
 * `INFO memory`, which managed Redis services answer even where CONFIG is disabled.
 * Returns the unsafe policy, or undefined when indexes cannot be evicted.
 */
export function unsafeEvictionPolicy(infoMemory: string): string | undefined {
  const maxmemory = Number(infoField(infoMemory, 'maxmemory') ?? '0');
  const policy = infoField(infoMemory, 'maxmemory_policy') ?? 'noeviction';
  return maxmemory > 0 && policy !== 'noeviction' ? policy : undefined;
}
