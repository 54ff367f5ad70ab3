import { performance } from 'node:perf_hooks';
import type { Expiry } from '../store/session-key-store.interface.js';
import { sessionTtlMs } from './session-codec.js';
import { deadlineOfSessionId, maxAgeOfSessionId } from './session-id.js';
import { isHeldFor, ttlRestartOf } from './session-state.js';

/** express-session derives max-age from a clock reading, so it can be a few ms off the set value. */
const SAME_TTL_TOLERANCE_MS = 1000;
/**
 * `touch` leaves a TTL restarted less than this share of it ago: the session middleware (and
 * express-session) touches as the response ends, after a load that restarted the TTL as the
 * request began, and a session may end that much earlier than its cookie says (36 s of an hour)
 * rather than cost a command.
 */
const FRESH_RESTART_SHARE = 0.01;
/**
 * Longer than any command takes from its TTL's computation to the store (event-loop lag, the
 * write coalescing's cork, the network; a request gives up on a round trip after a second by
 * default): an idle TTL ending at least this long before the deadline is sent as a TTL, since
 * even a late command cannot carry it past the deadline; one closer is sent as an instant.
 */
const LATE_COMMAND_ALLOWANCE_MS = 60_000;

/**
 * How long a tenant's sessions live: an idle TTL restarted by use (the tenant's, or a session's
 * own max-age, carried in its id so a read knows it before it has the data), never past the
 * absolute deadline its id carries (see session-id.ts).
 */
export class SessionLifetime {
  constructor(
    readonly idleTtlMs: number,
    /** The store clock (ms): deadlines are the Redis server's. */
    private readonly now: () => number,
  ) {}

  /** The expiry a read restarts before it has the data: what the id says, within its deadline. */
  expectedExpiry(sid: string): Expiry {
    return this.withinLifetime(sid, maxAgeOfSessionId(sid) ?? this.idleTtlMs);
  }

  /** The expiry a session gets when stored or read now: its own TTL, never past its deadline. */
  expiryOf(sid: string, data: object): Expiry {
    return this.withinLifetime(sid, sessionTtlMs(data, this.idleTtlMs));
  }

  /** The TTL a session gets when stored or read now (see `expiryOf`). */
  ttlOf(sid: string, data: object): number {
    return this.expiryOf(sid, data).ttlMs;
  }

  /** Whether two TTLs differ by more than express-session's rounding. */
  differ(a: number, b: number): boolean {
    return Math.abs(a - b) > SAME_TTL_TOLERANCE_MS;
  }

  /**
   * Whether `touch` would send anything: not when the session's TTL was restarted with the same
   * value moments ago (the request's own load or save).
   */
  touchIsDue(sid: string, session: object): boolean {
    const ttlMs = this.ttlOf(sid, session);
    const restarted = isHeldFor(session, sid) ? ttlRestartOf(session) : undefined;
    return !(
      restarted &&
      !this.differ(restarted.ttlMs, ttlMs) &&
      performance.now() - restarted.at <= ttlMs * FRESH_RESTART_SHARE
    );
  }

  /**
   * `ttlMs`, cut short at the session's absolute deadline so its key never outlives it; the
   * index lease, 3 times this TTL, shrinks with it. Near the deadline the key expires at an
   * instant, the deadline or the idle TTL's end by the store clock, whichever comes first: Redis
   * ends it there by its own clock however late the command arrives. `now` is never behind the
   * store's clock, so that end is never past the idle TTL's by more than its error.
   */
  private withinLifetime(sid: string, ttlMs: number): Expiry {
    const deadline = deadlineOfSessionId(sid);
    if (deadline === undefined) return { ttlMs };
    const now = this.now();
    const left = Math.floor(deadline - now);
    if (ttlMs + LATE_COMMAND_ALLOWANCE_MS <= left) return { ttlMs };
    return { ttlMs: Math.min(ttlMs, left), expiresAt: Math.min(deadline, Math.floor(now + ttlMs)) };
  }
}
