import { HttpException } from '@nestjs/common';
import { Cookie, type CookieOptions, type Session } from 'express-session';
import { SessionStoreUnavailableException } from '../errors/session-store-unavailable.exception.js';
import { getRequestFacts } from './request-facts.js';
import { signedCookieValue } from './session-cookie.js';
import type { SessionLifetime } from './session-lifetime.js';
import type { SessionRequest } from './session-request.js';
import {
  hasChanged,
  isPersisted,
  saveFailed,
  saveWithFields,
  sessionFields,
  ttlRestartOf,
} from './session-state.js';
import type { SerializableCookie, SetCookieLines } from './set-cookie-line.js';
import type { TenantStore } from './tenant-store.js';

/** What every commit of a tenant's sessions shares, fixed when the tenant is built. */
export interface SessionCommitSettings {
  cookieName: string;
  /** The cookie's attributes (a logout's clearing cookie carries them too). */
  cookie: CookieOptions;
  /** The secret new cookies are signed with. */
  secret: string;
  /** The session cookie's Set-Cookie lines. */
  cookieLines: SetCookieLines;
  rolling: boolean;
  saveUninitialized: boolean;
  store: TenantStore;
  lifetime: SessionLifetime;
}

/** Told how a commit ended (telemetry): the error it answered, and how long its work took. */
export interface CommitObserver {
  answered(error: unknown): void;
  committed(workMs: number): void;
}

/** What one request's commit knows about its session cookie. */
export interface RequestCookie {
  /** The session id the request's cookie carried (its signature verified), if any. */
  cookieId: string | undefined;
  /** That cookie's value when it is exactly what a Set-Cookie for `cookieId` carries. */
  signedCookie: string | undefined;
  /** The id the session had once loaded or made (a regenerate changes `req.sessionID`). */
  loadedId: string;
}

/**
 * One request's session, as its response ends: what must reach the store first, and the
 * session cookie the answer carries. Acknowledged means stored: the platform binding runs
 * `work` before anything of the response is written and answers `failureAnswer` instead when
 * it fails. Platform-neutral: the binding (lib/express, lib/fastify) owns the response.
 */
export class SessionCommit {
  private touched = false;

  constructor(
    private readonly req: SessionRequest,
    private readonly settings: SessionCommitSettings,
    private readonly cookie: RequestCookie,
    /** Whether the request came over HTTPS: a Secure cookie goes on no other answer. */
    private readonly secure: boolean,
  ) {}

  /**
   * Whether the request carried the session cookie (its signature verified): what it is
   * answered depends on that session.
   */
  get carriesSessionCookie(): boolean {
    return this.cookie.cookieId !== undefined;
  }

  /**
   * The Set-Cookie line an answer with this status carries, when express-session would set it,
   * or the clearing cookie of a logout; never on an error answer (a request that failed hands
   * out no session and no new expiry), while a redirect does carry it (a form login answers 302
   * with its new session). Throws when the cookie cannot be serialized.
   */
  cookieLine(status: number): string | undefined {
    if (status >= 400) return undefined;
    const { session, sessionID: sid } = this.req;
    if (!session || typeof sid !== 'string') {
      return getRequestFacts(this.req)?.signedOut ? this.clearingLine() : undefined;
    }
    if (!this.shouldSetCookie(session, sid)) return undefined;
    if (session.cookie.secure && !this.secure) return undefined;
    this.touch(session);
    const { cookieId, signedCookie } = this.cookie;
    const value =
      sid === cookieId && signedCookie
        ? signedCookie
        : signedCookieValue(sid, this.settings.secret);
    return this.settings.cookieLines.line(value, session.cookie as SerializableCookie);
  }

  /**
   * What must reach the store before the response ends: a save when the session changed, or is
   * new and worth keeping (saveUninitialized, or regenerated during the request, as
   * express-session keeps those); else the store's touch for a session the cookie named, unless
   * the load restarted its TTL moments ago; else nothing. `'drop'` for a session whose save
   * failed already: it must be neither saved again nor get a cookie. The binding runs the work
   * at once: the save takes the fields computed here (see `saveWithFields`).
   */
  work(): ((done: (error?: unknown) => void) => void) | 'drop' | undefined {
    const { session, sessionID: sid } = this.req;
    if (!session || typeof sid !== 'string') return undefined;
    if (saveFailed(session)) return 'drop';
    this.touch(session);
    const { saveUninitialized, store, lifetime } = this.settings;
    const keep = !isPersisted(session) && (saveUninitialized || sid !== this.cookie.loadedId);
    const fields = sessionFields(session);
    if (hasChanged(session, fields) || keep) {
      return (done) => saveWithFields(session, fields, () => session.save(done));
    }
    if (sid !== this.cookie.cookieId || !lifetime.touchIsDue(sid, session)) return undefined;
    return (done) => void store.touch(sid, session, done);
  }

  /**
   * Whether the answer must be `Cache-Control: no-store`, which keeps answers that carry or
   * depend on a session out of caches: a shared cache (a CDN, a proxy) would serve one user's
   * page, or session cookie, to the next visitor, and a browser would show an account page from
   * its cache after the logout. The app's own Cache-Control stands on an answer that sets no
   * session cookie (`private, max-age=60` is its choice to make); a cached Set-Cookie hands out
   * the session itself, so that answer is `no-store` whatever the app said.
   */
  noStore(setsSessionCookie: boolean, appSetCacheControl: boolean): boolean {
    return setsSessionCookie || (this.carriesSessionCookie && !appSetCacheControl);
  }

  /** No cookie and no second save for a session that was not stored. */
  drop(): void {
    this.req.session = undefined;
  }

  /** A cookie that makes the browser forget the session's (as Express's `res.clearCookie`). */
  private clearingLine(): string {
    const { secure, sameSite, ...rest } = this.settings.cookie;
    const options: CookieOptions = {
      ...rest,
      maxAge: undefined,
      secure: secure === 'auto' ? this.secure : secure,
      sameSite: (sameSite as string) === 'auto' ? (this.secure ? 'none' : 'lax') : sameSite,
      expires: new Date(1),
    };
    const cookie = new (Cookie as unknown as new (options: CookieOptions) => SerializableCookie)(
      options,
    );
    return cookie.serialize(this.settings.cookieName, '');
  }

  /** express-session's rolling expiry: the stored and the sent cookie count from now. */
  private touch(session: Session): void {
    if (this.touched) return;
    session.touch();
    this.touched = true;
  }

  /** express-session's rule for when a response carries the session cookie. */
  private shouldSetCookie(session: Session, sid: string): boolean {
    const { cookieId, loadedId } = this.cookie;
    const modified = () =>
      sid !== loadedId || ttlRestartOf(session)?.by === 'write' || hasChanged(session);
    return sid !== cookieId
      ? this.settings.saveUninitialized || modified()
      : this.settings.rolling || (session.cookie.expires != null && modified());
  }
}

/**
 * The JSON answer a failed commit gives instead of the response: the exception's own (a 401 for
 * a session revoked meanwhile), else 503 (the store failed).
 */
export function failureAnswer(error: unknown): { status: number; body: string } {
  const exception =
    error instanceof HttpException ? error : new SessionStoreUnavailableException('save failed');
  const response = exception.getResponse();
  const body = JSON.stringify(
    typeof response === 'string'
      ? { statusCode: exception.getStatus(), message: response }
      : response,
  );
  return { status: exception.getStatus(), body };
}

/** The `cookie` package's messages, which name the attribute it refused and nothing else. */
const COOKIE_PACKAGE_MESSAGE = /^(?:option|argument) \w+ is invalid$/;

/**
 * An error as a fixed text for a log line: its name, and the message only when it is one of the
 * cookie package's (any other could quote session data, and would defeat the throttling).
 */
export function errorSummary(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  return COOKIE_PACKAGE_MESSAGE.test(error.message)
    ? `${error.name}: ${error.message}`
    : error.name;
}
