import { Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Session, type SessionData } from 'express-session';
import { performance } from 'node:perf_hooks';
import { LoginRequiredException } from '../errors/login-required.exception.js';
import { RESOLVED_OPTIONS, type ResolvedOptions } from '../options/resolved-options.js';
import { MAX_SESSION_AGE_MS, MAX_SESSION_AGE_SECONDS } from '../options/session-age-limit.js';
import { requireRequestContext } from '../session/request-context.js';
import { requestSessionId } from '../session/session-id.js';
import { checkUserId } from '../user-index/user-id.js';

export interface LoginOptions {
  /**
   * Fields to put in the new session before its first save; not `cookie` (see `maxAge`) nor a
   * name the session object already has (`id`, `save`, ...).
   */
  data?: Partial<SessionData>;
  /**
   * This session's own idle timeout in ms ("remember me"), at least 1 and at most 1000 years;
   * default: the tenant's idle TTL.
   */
  maxAge?: number;
  /**
   * This session's absolute lifetime in whole seconds, at most 1000 years (it ends this long
   * after the login, however active); default: the tenant's `absoluteLifetime`. A "remember
   * me" longer than that needs this too.
   */
  absoluteLifetime?: number;
  /**
   * When the login began, for the not-before rule: by default when its request arrived (the
   * credentials were checked after that, maybe before a password change). `'now'` is for a
   * handler that revokes the user's sessions and then logs them in within the same request
   * (a password reset); use it only when the credentials were checked after that revocation.
   */
  began?: 'with-request' | 'now';
}

/**
 * Logs users in and out. A login gets a new session id (no fixation), is bound to the user (a
 * binding app data cannot forge or change), indexed, stored and confirmed before this resolves;
 * it is refused (LoginRevokedException) when a revocation of the user raced it. Logins made
 * any other way (passport, the app's own fields, see the `identity` option) are indexed too.
 * Arguments no session can carry are a TypeError, before anything is changed or written.
 */
@Injectable()
export class SessionLoginService {
  constructor(@Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions) {}

  async login(req: Request, userId: string, options: LoginOptions = {}): Promise<void> {
    checkUserId(userId);
    checkLoginOptions(options);
    const context = requireRequestContext(req);
    const { tenantSession } = context;
    if (options.began === 'now') context.arrivedAt = performance.now();
    requestSessionId(req, {
      maxAgeMs: options.maxAge,
      lifetimeMs:
        options.absoluteLifetime === undefined ? undefined : options.absoluteLifetime * 1000,
    });
    await callback((done) => tenantSession.store.regenerate(req, done));
    const session = req.session;
    if (options.maxAge !== undefined) session.cookie.maxAge = options.maxAge;
    Object.assign(session, options.data);
    tenantSession.store.bindLogin(session, userId, req);
    // The save also applies maxSessionsPerUser; if that fails, the login stands (indexed) but
    // the save counts as failed, so no cookie goes out with the error.
    await callback((done) => session.save(done));
  }

  /** Destroys this request's session (and its index entry) and clears its cookie. */
  async logout(req: Request, res: Response): Promise<void> {
    const { tenantSession } = requireRequestContext(req);
    const { store, cookieName, cookieDomain } = tenantSession;
    if (req.session) await store.end(req);
    res.clearCookie(cookieName, { path: this.options.cookie.path, domain: cookieDomain });
  }

  /**
   * Records that the app has just re-checked this user's credentials (a password prompt before
   * a sensitive action), for `@RequireRecentLogin`: the same session id and identity, a new
   * authentication time, stored before this resolves. LoginRequiredException when the session
   * is not logged in.
   */
  async reauthenticated(req: Request): Promise<Date> {
    const { store } = requireRequestContext(req).tenantSession;
    const at = store.recordAuthentication(req.session);
    if (at === undefined) throw new LoginRequiredException();
    await callback((done) => req.session.save(done));
    return new Date(at);
  }

  /** When this request's user last proved who they are (login or re-authentication). */
  authenticatedAt(req: Request): Date | undefined {
    const at = requireRequestContext(req).tenantSession.store.authenticatedAt(req.session);
    return at === undefined ? undefined : new Date(at);
  }

  /** Whether that was at most `maxAgeSeconds` ago (false when not logged in). */
  isRecentLogin(req: Request, maxAgeSeconds: number): boolean {
    const { store } = requireRequestContext(req).tenantSession;
    const ago = store.msSinceAuthentication(req.session);
    return ago !== undefined && ago <= maxAgeSeconds * 1000;
  }

  /** The user this request's session belongs to, if it is logged in (by any means). */
  userId(req: Request): string | undefined {
    return requireRequestContext(req).tenantSession.store.identityOf(req.session);
  }
}

/**
 * A login's options as a session can carry them: durations a cookie Expires, a Redis TTL and a
 * session id can hold (see session-age-limit.ts), and data that leaves the session's cookie and
 * methods alone (`Object.assign` would replace them, and the response's commit would throw).
 */
function checkLoginOptions(options: LoginOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('login options must be an object');
  }
  const { maxAge, absoluteLifetime, data, began } = options;
  if (
    maxAge !== undefined &&
    !(typeof maxAge === 'number' && maxAge >= 1 && maxAge <= MAX_SESSION_AGE_MS)
  ) {
    throw new TypeError(
      `maxAge must be a number of ms from 1 to ${MAX_SESSION_AGE_MS} (1000 years), got ${String(maxAge)}`,
    );
  }
  if (
    absoluteLifetime !== undefined &&
    !(
      Number.isInteger(absoluteLifetime) &&
      absoluteLifetime > 0 &&
      absoluteLifetime <= MAX_SESSION_AGE_SECONDS
    )
  ) {
    throw new TypeError(
      `absoluteLifetime must be whole seconds from 1 to ${MAX_SESSION_AGE_SECONDS} (1000 years), got ${String(absoluteLifetime)}`,
    );
  }
  if (data !== undefined) {
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw new TypeError('data must be an object of session fields');
    }
    const taken = Object.keys(data).find(
      (key) => key === 'cookie' || key === 'id' || key === 'req' || key in Session.prototype,
    );
    if (taken !== undefined) {
      throw new TypeError(
        `data.${taken} would replace the session's own ${taken}: set cookie options through maxAge, and pick another field name`,
      );
    }
  }
  if (began !== undefined && began !== 'with-request' && began !== 'now') {
    throw new TypeError(`began must be 'with-request' or 'now', got ${String(began)}`);
  }
}

function callback(run: (done: (err?: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => run((err) => (err ? reject(err) : resolve())));
}
