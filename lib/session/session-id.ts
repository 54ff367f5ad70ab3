import { randomBytes } from 'node:crypto';

/**
 * Session ids: 24 random bytes (base64url), then what a read must know before it has the data:
 * - `.<max-age in base36>` for sessions whose own max-age differs from the tenant's idle TTL
 *   ("remember me"): a read restarts the TTL in the same command that loads the session,
 *   before the data says what the TTL is;
 * - `~<absolute deadline, epoch seconds in base36>`: the session ends then whatever its
 *   activity, so that same read never sets a TTL past it (other services see the key end too).
 * Ids travel signed in the cookie, so neither can be forged; ids made by other services carry
 * neither and live by their data alone.
 */
export interface SessionIdRequest {
  /** The session's own max-age (ms), when it differs from the tenant's idle TTL. */
  maxAgeMs?: number;
  /** The session's absolute lifetime (ms), when it differs from the tenant's. */
  lifetimeMs?: number;
}

const pending = new WeakMap<object, SessionIdRequest>();

/** Asks for the next session id generated on this request to carry these (a login's options). */
export function requestSessionId(req: object, next: SessionIdRequest): void {
  pending.set(req, next);
}

/**
 * express-session's `genid`, given the Redis clock estimate now and the tenant's absolute
 * lifetime: the session made on a login's regeneration ends at that login + the lifetime.
 */
export function generateSessionId(req: object, nowMs: number, lifetimeMs: number): string {
  const random = randomBytes(24).toString('base64url');
  const { maxAgeMs, lifetimeMs: ownLifetimeMs } = pending.get(req) ?? {};
  pending.delete(req);
  const deadline = Math.ceil((nowMs + (ownLifetimeMs ?? lifetimeMs)) / 1000);
  const maxAge = maxAgeMs === undefined ? '' : `.${Math.round(maxAgeMs).toString(36)}`;
  return `${random}${maxAge}~${deadline.toString(36)}`;
}

const PARTS = /^[\w-]{32}(?:\.([0-9a-z]{1,10}))?(?:~([0-9a-z]{1,10}))?$/;

/** The last id parsed: a request asks about its session's id several times in a row. */
let lastSid: string | undefined;
let lastParts: RegExpExecArray | null = null;

function partsOf(sid: string): RegExpExecArray | null {
  if (sid !== lastSid) {
    lastParts = PARTS.exec(sid);
    lastSid = sid;
  }
  return lastParts;
}

/** The max-age a session id made here carries, if any. */
export function maxAgeOfSessionId(sid: string): number | undefined {
  return positive(partsOf(sid)?.[1]);
}

/** The absolute deadline (ms epoch, Redis clock) a session id made here carries, if any. */
export function deadlineOfSessionId(sid: string): number | undefined {
  const seconds = positive(partsOf(sid)?.[2]);
  return seconds === undefined ? undefined : seconds * 1000;
}

function positive(base36: string | undefined): number | undefined {
  const value = base36 === undefined ? NaN : parseInt(base36, 36);
  return value > 0 ? value : undefined;
}
