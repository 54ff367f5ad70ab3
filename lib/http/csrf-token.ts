import { randomBytes } from 'node:crypto';
import { requireTenantSessions } from '../session/request-context.js';
import type { SessionRequest } from '../session/session-request.js';
import { hmacSha256, sameDigest } from '../util/hmac.js';

/**
 * Where token mode keeps its state: a random secret in the session's own data (this field),
 * and the token is an HMAC of the session's identity under that secret.
 * - Bound to the session: another session has another secret.
 * - Rotated at every login, whatever logs in: `SessionLoginService.login` and passport start a
 *   new session (a new secret), and an identity set on the session in place changes what is
 *   signed. The token is the same before and after the save that admits the identity, so a
 *   handler can hand out the new token in the response that logs the user in.
 * - A session without a stored copy gets one: writing the secret is what makes the session
 *   middleware store it, so the token still holds on the visitor's next request.
 * Not an HMAC of the session id with the tenant's secret: that would need no storage for a
 * stored session, but an anonymous one would still need a field to be stored, and a login that
 * keeps its session id would keep the token.
 */
const SECRET_FIELD = 'csrfSecret';

type SessionFields = Record<string, unknown>;

/**
 * The CSRF token of this request's session, for the app to put in its pages (a meta tag, a
 * hidden field, a JSON answer) and send back in the token header on unsafe requests, when the
 * `csrf.token` option is on. Valid for as long as the session, until its next login.
 */
export function csrfToken(req: SessionRequest): string {
  const { owners } = requireTenantSessions(req);
  const session = req.session as unknown as SessionFields | undefined;
  if (!session) throw new Error('csrfToken(req): the request has no session');
  let secret = session[SECRET_FIELD];
  if (typeof secret !== 'string') {
    secret = randomBytes(32).toString('base64url');
    session[SECRET_FIELD] = secret;
  }
  return tokenOf(secret as string, owners.identityOf(session));
}

/** Whether `given` is this request's session's token (compared in constant time). */
export function isValidCsrfToken(req: SessionRequest, given: string | undefined): boolean {
  const session = req.session as unknown as SessionFields | undefined;
  const secret = session?.[SECRET_FIELD];
  if (typeof secret !== 'string' || given === undefined) return false;
  const { owners } = requireTenantSessions(req);
  return sameDigest(tokenOf(secret, owners.identityOf(session)), given);
}

function tokenOf(secret: string, identity: string | undefined): string {
  const subject = identity === undefined ? 'anonymous' : `user:${identity}`;
  return hmacSha256(secret, subject, 'base64url');
}
