import { Logger } from '@nestjs/common';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { DEFAULT_DEPLOYMENT } from '../options/deployments-option.js';
import type { RedisSource } from '../options/redis-option.js';
import type { ResolvedOptions } from '../options/resolved-options.js';
import type { SessionTelemetry } from '../telemetry/session-telemetry.js';
import { followFailovers, missingFailoverSettings } from './redis/failover-settings.js';
import { MemoryBackend } from './memory/memory-backend.js';
import { InvalidTenantSessionOptionsError } from '../errors/invalid-options.error.js';
import { nearCached } from './near-cache/near-cached-stores.js';
import { RedisBackend } from './redis/redis-backend.js';
import type { SessionBackend } from './session-backend.interface.js';
import { Deployments } from './deployments.js';

const logger = new Logger('TenantSession');

/** Start-up waits this many `operationTimeoutMs` for Redis, and as long for its checks. */
const STARTUP_WAIT_FACTOR = 5;

/**
 * A backend for every deployment: `default` (the `redis` option) and each of `deployments`.
 * If one cannot start (an unsafe memory policy, say), those already made are closed.
 */
export async function connectDeployments(
  options: ResolvedOptions,
  telemetry: SessionTelemetry,
): Promise<Deployments> {
  const sources: [string, RedisSource][] = [
    [DEFAULT_DEPLOYMENT, options.redis],
    ...Object.entries(options.deployments),
  ];
  const made = await Promise.allSettled(
    sources.map(([name, source]) => createSessionBackend(source, options, name, telemetry)),
  );
  const deployments = new Deployments(
    new Map(
      made.flatMap((result, i) =>
        result.status === 'fulfilled' ? [[sources[i][0], result.value] as const] : [],
      ),
    ),
  );
  const failed = made.find((result) => result.status === 'rejected');
  if (failed) {
    await deployments.close();
    throw failed.reason;
  }
  return deployments;
}

/**
 * The backend one Redis source asks for. A client the module creates fails fast instead of
 * queueing while Redis is away (no offline queue) and reconnects by itself. It has no
 * per-command timeout: every round trip of a request is bounded by the round-trip runner's
 * deadline, and an ioredis `commandTimeout` would run a second timer per command (and
 * allocate). When Redis answers at start-up, its memory policy is checked (see
 * eviction-policy.ts).
 */
async function createSessionBackend(
  redis: RedisSource,
  {
    operationTimeoutMs,
    allowUnsafeEviction,
    nearCache,
    keyPrefix,
    indexPrefix,
    durability,
  }: ResolvedOptions,
  deployment: string,
  telemetry: SessionTelemetry,
): Promise<SessionBackend> {
  if (redis.kind === 'embedded') {
    logger.warn(
      'No Redis configured: sessions live in this process only (lost on restart, not shared). ' +
        'Pass the `redis` option in production.',
    );
    return new MemoryBackend();
  }
  const given = redis.kind === 'client';
  const client = given ? redis.client : createClient(redis, operationTimeoutMs);
  if (given) {
    reportErrors(client);
    warnUnlessFollowingFailovers(client);
  }
  const backend = new RedisBackend(client, {
    ownsClient: !given,
    allowUnsafeEviction,
    durability,
    deployment,
    telemetry,
    decorate:
      nearCache &&
      nearCached(
        nearCacheClient(client),
        trackedPrefixes([keyPrefix, indexPrefix]),
        // The invalidation connection answers a PING within a request's budget, or the cache is off.
        { ...nearCache, heartbeatMs: operationTimeoutMs },
        { telemetry, deployment },
      ),
  });
  if (await backend.ready(operationTimeoutMs * STARTUP_WAIT_FACTOR)) {
    try {
      await backend.checkAtStartup(operationTimeoutMs * STARTUP_WAIT_FACTOR);
    } catch (error) {
      await backend.close();
      throw error;
    }
  } else {
    logger.warn(
      `Redis (deployment ${deployment}) is not reachable yet; its tenants' session requests ` +
        'answer 503 until it is',
    );
  }
  backend.watchServers();
  return backend;
}

/**
 * Tracking and its invalidations are per server: on a Cluster, every master's (see
 * invalidation-listener.ts). Reads from replicas could answer what a master changed and already
 * reported, and that would be kept: refused.
 */
function nearCacheClient(client: Redis | Cluster): Redis | Cluster {
  const scaleReads = client.isCluster ? (client as Cluster).options.scaleReads : 'master';
  if (scaleReads !== 'master') {
    throw new InvalidTenantSessionOptionsError(
      "nearCache needs a Cluster that reads from its masters (scaleReads: 'master', the default)",
    );
  }
  return client;
}

/**
 * The key prefixes Redis reports changes of: the session and index key templates up to their
 * first placeholder (`sessions:` and `sessions-index:` by default), every tenant's and app's
 * sessions and indexes under them. An empty one tracks every key.
 */
function trackedPrefixes(templates: string[]): string[] {
  const literals = templates.map((template) => template.slice(0, template.indexOf('{')));
  // Redis refuses prefixes that overlap; the shorter one covers the longer.
  return literals.filter(
    (literal, i) =>
      !literals.some(
        (other, j) => j !== i && literal.startsWith(other) && (other !== literal || j < i),
      ),
  );
}

function createClient(redis: RedisSource, timeoutMs: number): Redis {
  const failFast: RedisOptions = {
    enableOfflineQueue: false,
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
      'writing to the old primary, and those writes are lost. See docs/sentinel-and-cluster.md.',
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
