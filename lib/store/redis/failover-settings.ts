import type { Cluster, Redis, RedisOptions } from 'ioredis';

/**
 * A primary that refuses writes (READONLY) was demoted: a failover moved the primary elsewhere
 * and this connection still points at the old one. Only READONLY: a reconnect is what finds
 * the new primary (through Sentinel, or the DNS name a managed service moves).
 */
export function isDemotedPrimaryError(error: Error): boolean {
  return error.message.startsWith('READONLY');
}

/**
 * What a client the module creates adds to its options so that it never keeps writing to a
 * demoted primary: with Sentinel, ioredis's `failoverDetector` (it subscribes to the sentinels'
 * `+switch-master` and reconnects at once) and bounded questions to the sentinels; on any
 * client, a reconnect on READONLY (the request that met it answers 503; the next ones reach
 * the new primary). Options given by the app win.
 */
export function followFailovers(timeoutMs: number, options: RedisOptions): RedisOptions {
  const sentinel: RedisOptions = options.sentinels
    ? { failoverDetector: true, sentinelCommandTimeout: timeoutMs }
    : {};
  return { reconnectOnError: isDemotedPrimaryError, ...sentinel, ...options };
}

/**
 * For a client the app passes: the settings missing for it to follow a failover, described
 * for a start-up warning (undefined when nothing is missing, or for a Cluster, which follows
 * its own failovers through MOVED replies and slot refreshes).
 */
export function missingFailoverSettings(client: Redis | Cluster): string | undefined {
  if (client.isCluster) return undefined;
  const { sentinels, failoverDetector, reconnectOnError } = (client as Redis).options;
  if (!sentinels?.length) return undefined;
  const missing = [
    failoverDetector ? '' : '`failoverDetector: true`',
    reconnectOnError ? '' : '`reconnectOnError` on READONLY',
  ].filter(Boolean);
  return missing.length > 0 ? missing.join(' and ') : undefined;
}
