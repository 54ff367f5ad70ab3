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
  if (isPlainObject(redis)) return { kind: 'options', options: redis as RedisOptions };
  throw new InvalidTenantSessionOptionsError(
    `redis: expected an ioredis 6 client or Cluster, an options object or a redis:// URL, got ${describe(redis)}`,
  );
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
