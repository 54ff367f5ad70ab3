import { randomBytes } from 'node:crypto';
import type { Request } from 'express';

/**
 * Session ids: 24 random bytes (base64url), plus `.<max-age in base36>` for sessions whose own
 * max-age differs from the tenant's idle TTL ("remember me"). A read must restart the TTL in the
 * same command that loads the session (GETEX), before the data says what the TTL is; the id
 * says it up front. Ids travel signed in the cookie, so the suffix cannot be forged.
 */
const pendingMaxAge = new WeakMap<Request, number>();

/** Asks for the next session id generated on this request to carry `maxAgeMs`. */
export function requestSessionMaxAge(req: Request, maxAgeMs: number): void {
  pendingMaxAge.set(req, maxAgeMs);
}

/** express-session's `genid`. */
export function generateSessionId(req: Request): string {
  const random = randomBytes(24).toString('base64url');
  const maxAge = pendingMaxAge.get(req);
  pendingMaxAge.delete(req);
  return maxAge === undefined ? random : `${random}.${Math.round(maxAge).toString(36)}`;
}

const WITH_MAX_AGE = /^[\w-]{32}\.([0-9a-z]{1,10})$/;

/** The max-age a session id made here carries, if any (ids from other services carry none). */
export function maxAgeOfSessionId(sid: string): number | undefined {
  const match = WITH_MAX_AGE.exec(sid);
  const maxAge = match ? parseInt(match[1], 36) : NaN;
  return maxAge > 0 ? maxAge : undefined;
}
