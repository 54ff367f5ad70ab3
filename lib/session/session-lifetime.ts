import { performance } from 'node:perf_hooks';
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

  /** The TTL a read restarts before it has the data: what the id says, within its deadline. */
  expectedTtl(sid: string): number {
    return this.withinLifetime(sid, maxAgeOfSessionId(sid) ?? this.idleTtlMs);
  }

  /** The TTL a session gets when stored or read now: its own, never past its deadline. */
  ttlOf(sid: string, data: object): number {
    return this.withinLifetime(sid, sessionTtlMs(data, this.idleTtlMs));
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
   * index lease, 3 times this TTL, shrinks with it.
   */
  private withinLifetime(sid: string, ttlMs: number): number {
    const deadline = deadlineOfSessionId(sid);
    return deadline === undefined ? ttlMs : Math.min(ttlMs, Math.floor(deadline - this.now()));
  }
}
