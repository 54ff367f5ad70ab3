import { Logger } from '@nestjs/common';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { ResolvedOptions } from '../options/resolved-options.js';
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
  const { redis, operationTimeoutMs, allowUnsafeEviction } = options;
  if (redis === undefined) {
    logger.warn(
      'No Redis configured: sessions live in this process only (lost on restart, not shared). ' +
        'Pass the `redis` option in production.',
    );
    return new MemorySessionBackend();
  }
  const given = redis instanceof Redis || redis instanceof Cluster;
  const client = given ? redis : createClient(redis, operationTimeoutMs);
  const backend = new RedisSessionBackend(client, !given, allowUnsafeEviction);
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
  return backend;
}

function createClient(redis: RedisOptions | string, timeoutMs: number): Redis {
  const failFast: RedisOptions = {
    enableOfflineQueue: false,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 1,
    connectTimeout: Math.max(timeoutMs, 2000),
    retryStrategy: (attempt) => Math.min(100 * attempt, 2000),
  };
  const client =
    typeof redis === 'string' ? new Redis(redis, failFast) : new Redis({ ...failFast, ...redis });
  let lastReport = 0;
  client.on('error', (error: Error) => {
    // Reconnection attempts fail repeatedly during an outage; one line every 10 s is enough.
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      logger.warn(`Redis connection error: ${error.message}`);
    }
  });
  return client;
}
