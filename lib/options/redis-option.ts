import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { InvalidTenantSessionOptionsError } from '../errors/invalid-options.error.js';

/** The `redis` option, checked: what the backend factory builds on. */
export type RedisSource =
  | { kind: 'embedded' }
  | { kind: 'client'; client: Redis | Cluster }
  | { kind: 'url'; url: string }
  | { kind: 'options'; options: RedisOptions };

/**
 * Accepts an ioredis 6 client or Cluster, an options object, or a `redis://` / `rediss://` URL;
 * anything else is an error naming what was passed, never a silent fallback to localhost or to
 * memory. Without `redis`, the embedded store is refused in production unless allowed.
 */
export function checkRedisOption(
  redis: unknown,
  allowEmbeddedStore: boolean,
  environment = process.env.NODE_ENV,
): RedisSource {
  if (redis === undefined) {
    if (environment === 'production' && !allowEmbeddedStore) {
      throw new InvalidTenantSessionOptionsError(
        'redis: no Redis configured with NODE_ENV=production; sessions would live in one ' +
          'process and vanish on restart. Pass `redis`, or `allowEmbeddedStore: true` to accept that.',
      );
    }
    return { kind: 'embedded' };
  }
  if (redis instanceof Redis || redis instanceof Cluster) return { kind: 'client', client: redis };
  if (typeof redis === 'string') {
    if (/^rediss?:\/\/./.test(redis)) return { kind: 'url', url: redis };
    throw new InvalidTenantSessionOptionsError(
      `redis: ${redis === '' ? 'an empty string' : `"${redact(redis)}"`} is not a redis:// or rediss:// URL`,
    );
  }
  if (isClientLike(redis)) {
    throw new InvalidTenantSessionOptionsError(
      'redis: this client is not an ioredis 6 Redis or Cluster (another version or copy of ' +
        'ioredis, or another library); pass an ioredis 6 client, options, or a URL',
    );
  }
  if (isPlainObject(redis)) {
    checkSentinelOptions(redis as RedisOptions);
    return { kind: 'options', options: redis as RedisOptions };
  }
  throw new InvalidTenantSessionOptionsError(
    `redis: expected an ioredis 6 client or Cluster, an options object or a redis:// URL, got ${describe(redis)}`,
  );
}

/**
 * Sentinel options as ioredis reads them, checked up front: ioredis would otherwise find out on
 * its first connection attempt, or (a name without sentinels) silently connect to localhost.
 * Sessions need the primary: every request writes (a read restarts the TTL).
 */
function checkSentinelOptions(options: RedisOptions): void {
  const { sentinels, name, role } = options;
  if (sentinels === undefined || sentinels === null) {
    if (name !== undefined && name !== null) {
      throw new InvalidTenantSessionOptionsError(
        'redis: `name` (the Sentinel master name) is set but `sentinels` is missing; ' +
          'pass sentinels: [{ host, port }, ...]',
      );
    }
    return;
  }
  if (!Array.isArray(sentinels) || sentinels.length === 0 || !sentinels.every(isAddress)) {
    throw new InvalidTenantSessionOptionsError(
      'redis.sentinels must be a non-empty array of { host, port } (the Sentinel servers)',
    );
  }
  if (typeof name !== 'string' || name === '') {
    throw new InvalidTenantSessionOptionsError(
      'redis.name is required with `sentinels`: the name of the master the sentinels monitor',
    );
  }
  if (role !== undefined && role !== 'master') {
    throw new InvalidTenantSessionOptionsError(
      `redis.role must be 'master' (or left out): sessions are written on every request, and a replica refuses writes`,
    );
  }
}

/** `{ host, port }`, either may be left out (ioredis defaults them), not both. */
function isAddress(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  const { host, port } = value as { host?: unknown; port?: unknown };
  if (host === undefined && port === undefined) return false;
  const validPort = port === undefined || (Number.isInteger(port) && (port as number) > 0);
  return (host === undefined || typeof host === 'string') && validPort;
}

function isClientLike(value: unknown): boolean {
  const candidate = value as { sendCommand?: unknown; call?: unknown } | null;
  return (
    typeof value === 'object' &&
    value !== null &&
    (typeof candidate?.sendCommand === 'function' || typeof candidate?.call === 'function')
  );
}

function isPlainObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return `an instance of ${value.constructor?.name ?? 'Object'}`;
  return typeof value;
}

/** A URL may carry a password: show only its scheme-like start. */
function redact(url: string): string {
  return url.length > 12 ? `${url.slice(0, 12)}…` : url;
}
