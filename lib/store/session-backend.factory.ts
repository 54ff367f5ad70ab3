import { Logger } from '@nestjs/common';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisSource } from '../options/redis-option.js';
import type { ResolvedOptions } from '../options/resolved-options.js';
import { followFailovers, missingFailoverSettings } from './failover-settings.js';
import { MemorySessionBackend } from './memory-session.backend.js';
import { RedisSessionBackend } from './redis-session.backend.js';
import type { SessionBackend } from './session-backend.interface.js';

const logger = new Logger('TenantSession');

/**
 * The backend the options ask for. A client the module creates fails fast instead of queueing
 * while Redis is away (no offline queue, bounded command time) and reconnects by itself.
 * When Redis answers at start-up, its memory policy is checked (see eviction-policy.ts).
 */
export async function createSessionBackend(options: ResolvedOptions): Promise<SessionBackend> {
  const { redis, operationTimeoutMs, allowUnsafeEviction, durability } = options;
  if (redis.kind === 'embedded') {
    logger.warn(
      'No Redis configured: sessions live in this process only (lost on restart, not shared). ' +
        'Pass the `redis` option in production.',
    );
    return new MemorySessionBackend();
  }
  const given = redis.kind === 'client';
  const client = given ? redis.client : createClient(redis, operationTimeoutMs);
  if (given) {
    reportErrors(client);
    warnUnlessFollowingFailovers(client);
  }
  const backend = new RedisSessionBackend(client, !given, allowUnsafeEviction, durability);
  if (await backend.ready(operationTimeoutMs * 5)) {
    try {
      await backend.checkAtStartup();
    } catch (error) {
      await backend.close();
      throw error;
    }
  } else {
    logger.warn('Redis is not reachable yet; session requests answer 503 until it is');
  }
  backend.watchReconnects();
  return backend;
}

function createClient(redis: RedisSource, timeoutMs: number): Redis {
  const failFast: RedisOptions = {
    enableOfflineQueue: false,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 1,
    connectTimeout: Math.max(timeoutMs, 2000),
    retryStrategy: (attempt) => Math.min(100 * attempt, 2000),
  };
  const options = followFailovers(timeoutMs, {
    ...failFast,
    ...(redis.kind === 'options' ? redis.options : {}),
  });
  const client = redis.kind === 'url' ? new Redis(redis.url, options) : new Redis(options);
  reportErrors(client);
  return client;
}

/**
 * A Sentinel client of the app's that would keep writing to a demoted primary after a graceful
 * failover (measured: about 11 s of writes, lost when it becomes a replica).
 */
function warnUnlessFollowingFailovers(client: Redis | Cluster): void {
  const missing = missingFailoverSettings(client);
  if (!missing) return;
  logger.warn(
    `The Sentinel client passed as \`redis\` lacks ${missing}: after a failover it may keep ` +
      'writing to the old primary, and those writes are lost. See "Sentinel and Cluster" in the README.',
  );
}

/**
 * Connection errors, logged (one line every 10 s: reconnection attempts fail repeatedly during
 * an outage); also on a client the app owns, which would otherwise print ioredis's
 * "Unhandled error event" for every attempt.
 */
function reportErrors(client: Redis | Cluster): void {
  let lastReport = 0;
  client.on('error', (error: Error) => {
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      logger.warn(`Redis connection error: ${error.message}`);
    }
  });
}
