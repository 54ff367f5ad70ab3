import { sessionTtlMs } from '../session/session-codec.js';
import { deadlineOfSessionId } from '../session/session-id.js';

/** What a plain service sharing the module's sessions must agree on. */
export interface PlainServiceSettings {
  /** The tenant's idle timeout in seconds: the module's `idleTtl` (or the tenant's own). */
  idleTtl: number;
}

/** The part of connect-redis `RedisStore` options that keeps a plain service within the rules. */
export interface ConnectRedisSessionOptions {
  /**
   * Seconds a write or touch gives the key: the session's own max-age (its cookie's), else the
   * module's idle TTL, never past the absolute deadline its id carries (zero or less once it
   * has passed: connect-redis then deletes the session on a write).
   */
  ttl: (session: object) => number;
  /**
   * `true`: the module renews a session's index lease whenever it extends its TTL, and a touch
   * from here would not, so a session kept alive only here would stop serving in the Nest app.
   */
  disableTouch: true;
}

/**
 * Options to spread into a plain service's connect-redis `RedisStore`, so that what it writes
 * lives as the module's own writes do: the module's idle TTL for a session it creates (not
 * connect-redis's default of one day), and never a TTL past the deadline a session id made by
 * the module carries. The deadline is read from the id express-session hands the store
 * (`session.id`); the TTL is counted by this host's clock, which must agree with the Redis
 * server's (NTP), as for any Redis deployment.
 *
 * @example
 * new RedisStore({
 *   client,
 *   prefix: 'sessions:acme:shop:',
 *   ...connectRedisOptions({ idleTtl: 3600 }),
 * });
 */
export function connectRedisOptions(settings: PlainServiceSettings): ConnectRedisSessionOptions {
  const { idleTtl } = settings;
  if (!Number.isInteger(idleTtl) || idleTtl <= 0) {
    throw new TypeError(`idleTtl must be a positive whole number of seconds, got ${idleTtl}`);
  }
  return { ttl: (session) => ttlSeconds(session, idleTtl * 1000), disableTouch: true };
}

function ttlSeconds(session: object, idleTtlMs: number): number {
  const ownTtlMs = sessionTtlMs(session as Parameters<typeof sessionTtlMs>[0], idleTtlMs);
  const id = (session as { id?: unknown }).id;
  const deadline = typeof id === 'string' ? deadlineOfSessionId(id) : undefined;
  const ttlMs = deadline === undefined ? ownTtlMs : Math.min(ownTtlMs, deadline - Date.now());
  // Whole seconds, rounded down so the key never outlives the deadline.
  return Math.floor(ttlMs / 1000);
}
