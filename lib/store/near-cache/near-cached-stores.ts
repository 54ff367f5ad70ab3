import type { Cluster, Redis } from 'ioredis';
import type { SessionKeyStore } from '../session-key-store.interface.js';
import type { UserIndexStore } from '../user-index-store.interface.js';
import { InvalidationListener } from './invalidation-listener.js';
import { NearCache } from './near-cache.js';
import type { NearCacheSettings, NearCacheTelemetry } from './near-cache-settings.js';
import { NearCachedSessionKeys } from './near-cached-session-keys.js';
import { NearCachedUserIndexes } from './near-cached-user-indexes.js';

/**
 * Wraps a Redis backend's key and index stores in one near cache, kept exact by invalidations
 * of the tracked key prefixes on `client` (the connection the stores talk through, or every
 * master's of a Cluster). Its hits,
 * misses and invalidations are counted in `observed.telemetry`; `storeNow` is the backend's
 * estimate of the Redis clock, never behind it.
 */
export function nearCached(
  client: Redis | Cluster,
  trackedPrefixes: string[],
  settings: NearCacheSettings,
  observed: NearCacheTelemetry,
) {
  return (stores: { keys: SessionKeyStore; indexes: UserIndexStore }, storeNow: () => number) => {
    const cache = new NearCache(settings.maxEntries);
    const listener = new InvalidationListener(
      client,
      trackedPrefixes,
      cache,
      settings.heartbeatMs,
      (keys) => observed.telemetry.nearCacheInvalidated(observed.deployment, keys),
    );
    listener.start();
    return {
      keys: new NearCachedSessionKeys(stores.keys, cache, observed, storeNow),
      indexes: new NearCachedUserIndexes(stores.indexes, cache, storeNow),
      close: () => listener.close(),
    };
  };
}
