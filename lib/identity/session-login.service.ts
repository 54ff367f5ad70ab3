import { Injectable } from '@nestjs/common';
import { Session, type SessionData } from 'express-session';
import { performance } from 'node:perf_hooks';
import { LoginRequiredException } from '../errors/login-required.exception.js';
import { MAX_SESSION_AGE_SECONDS } from '../options/session-age-limit.js';
import { requireTenantSessions, sessionUserId } from '../session/request-context.js';
import { getRequestFacts } from '../session/request-facts.js';
import { requestSessionId } from '../session/session-id.js';
import { storedValueOf } from '../session/session-state.js';
import type { SessionRequest } from '../session/session-request.js';
import type { TenantSessions } from '../session/tenant-sessions.js';
import { SessionTelemetry } from '../telemetry/session-telemetry.js';
import { SPANS } from '../telemetry/telemetry-names.js';
import { checkUserId } from '../user-index/user-id.js';

/** How a login is made; durations in seconds, as every option of the module's. */
export interface LoginOptions {
  /**
   * Fields to put in the new session before its first save; not `cookie` (see `idleTtl`) nor a
   * name the session object already has (`id`, `save`, ...).
   */
  data?: Partial<SessionData>;
  /**
   * This session's own idle timeout in whole seconds ("remember me"), at most 1000 years;
   * default: the tenant's `idleTtl`.
   */
  idleTtl?: number;
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
 * A login runs in its span (`tenant_session.login`), a child of the request's.
 */
@Injectable()
export class SessionLoginService {
  /** @internal Nest's dependency injection makes it; apps inject it. */
  constructor(private readonly telemetry: SessionTelemetry) {}

  async login(req: SessionRequest, userId: string, options: LoginOptions = {}): Promise<void> {
    checkUserId(userId);
    checkLoginOptions(options);
    const tenant = requireTenantSessions(req);
    await this.telemetry.span(SPANS.login, tenant, () =>
      this.loginAs(req, tenant, userId, options),
    );
  }

  private async loginAs(
    req: SessionRequest,
    tenant: TenantSessions,
    userId: string,
    options: LoginOptions,
  ): Promise<void> {
    const facts = getRequestFacts(req)!;
    if (options.began === 'now') facts.arrivedAt = performance.now();
    const idleTtlMs = options.idleTtl === undefined ? undefined : options.idleTtl * 1000;
    requestSessionId(req, {
      maxAgeMs: idleTtlMs,
      lifetimeMs:
        options.absoluteLifetime === undefined ? undefined : options.absoluteLifetime * 1000,
    });
    await callback((done) => tenant.store.regenerate(req, done));
    const session = req.session!;
    if (idleTtlMs !== undefined) session.cookie.maxAge = idleTtlMs;
    Object.assign(session, options.data);
    tenant.owners.bindLogin(session, userId, facts.client);
    // The save also applies maxSessionsPerUser; if that fails, the login stands (indexed) but
    // the save counts as failed, so no cookie goes out with the error.
    await callback((done) => session.save(done));
  }

  /** Destroys this request's session (and its index entry); its answer clears the cookie. */
  async logout(req: SessionRequest): Promise<void> {
    const tenant = requireTenantSessions(req);
    const facts = getRequestFacts(req)!;
    if (req.session) {
      await tenant.writer.erase(req.sessionID!, facts.budget, storedValueOf(req.session));
    }
    req.session = undefined;
    facts.signedOut = true;
  }

  /**
   * Records that the app has just re-checked this user's credentials (a password prompt before
   * a sensitive action), for `@RequireRecentLogin`: the same session id and identity, a new
   * authentication time, stored before this resolves. LoginRequiredException when the session
   * is not logged in.
   */
  async reauthenticated(req: SessionRequest): Promise<Date> {
    const at = requireTenantSessions(req).owners.recordAuthentication(req.session ?? {});
    if (at === undefined) throw new LoginRequiredException();
    await callback((done) => req.session!.save(done));
    return new Date(at);
  }

  /** When this request's user last proved who they are (login or re-authentication). */
  authenticatedAt(req: SessionRequest): Date | undefined {
    const at = requireTenantSessions(req).owners.authenticatedAt(req.session);
    return at === undefined ? undefined : new Date(at);
  }

  /** Whether that was at most `maxAgeSeconds` ago (false when not logged in). */
  isRecentLogin(req: SessionRequest, maxAgeSeconds: number): boolean {
    const ago = requireTenantSessions(req).owners.msSinceAuthentication(req.session);
    return ago !== undefined && ago <= maxAgeSeconds * 1000;
  }

  /** The user this request's session belongs to, if it is logged in (by any means). */
  userId(req: SessionRequest): string | undefined {
    requireTenantSessions(req);
    return sessionUserId(req);
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
  const { idleTtl, absoluteLifetime, data, began } = options;
  for (const [name, seconds] of [
    ['idleTtl', idleTtl],
    ['absoluteLifetime', absoluteLifetime],
  ] as const) {
    if (seconds !== undefined && !isSessionAge(seconds)) {
      throw new TypeError(
        `${name} must be whole seconds from 1 to ${MAX_SESSION_AGE_SECONDS} (1000 years), got ${String(seconds)}`,
      );
    }
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
        `data.${taken} would replace the session's own ${taken}: set the idle timeout through idleTtl, and pick another field name`,
      );
    }
  }
  if (began !== undefined && began !== 'with-request' && began !== 'now') {
    throw new TypeError(`began must be 'with-request' or 'now', got ${String(began)}`);
  }
}

function isSessionAge(seconds: unknown): boolean {
  return (
    Number.isInteger(seconds) &&
    (seconds as number) > 0 &&
    (seconds as number) <= MAX_SESSION_AGE_SECONDS
  );
}

function callback(run: (done: (err?: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => run((err) => (err ? reject(err) : resolve())));
}
