import type { Redis } from 'ioredis';
import type { SessionKeyStore } from '../session-key-store.interface.js';
import type { UserIndexStore } from '../user-index-store.interface.js';
import { InvalidationListener } from './invalidation-listener.js';
import { NearCache } from './near-cache.js';
import type { NearCacheSettings } from './near-cache-settings.js';
import { NearCachedSessionKeys } from './near-cached-session-keys.js';
import { NearCachedUserIndexes } from './near-cached-user-indexes.js';

/**
 * Wraps a Redis backend's key and index stores in one near cache, kept exact by invalidations
 * of the tracked key prefixes on `client` (the connection the stores talk through).
 */
export function nearCached(client: Redis, trackedPrefixes: string[], settings: NearCacheSettings) {
  return (stores: { keys: SessionKeyStore; indexes: UserIndexStore }) => {
    const cache = new NearCache(settings.maxEntries);
    const listener = new InvalidationListener(client, trackedPrefixes, cache, settings.heartbeatMs);
    listener.start();
    return {
      keys: new NearCachedSessionKeys(stores.keys, cache),
      indexes: new NearCachedUserIndexes(stores.indexes, cache),
      close: () => listener.close(),
    };
  };
}
