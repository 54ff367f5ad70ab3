import { HttpException, InternalServerErrorException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Session } from 'express-session';
import onHeaders from 'on-headers';
import { SessionStoreUnavailableException } from '../errors/session-store-unavailable.exception.js';
import { ThrottledLogger } from '../util/throttled-logger.js';
import { isSecureRequest, signedCookieValue } from './session-cookie.js';
import { hasChanged, isPersisted, saveFailed, ttlRestartOf } from './session-state.js';
import type { TenantSessionStore } from './tenant-session.store.js';

type End = (this: Response, ...args: unknown[]) => Response;
/** express-session's Cookie serializes itself (its `data`, by the `cookie` package). */
type SerializableCookie = Session['cookie'] & { serialize(name: string, value: string): string };

/** What every commit of a tenant's sessions shares, fixed when the tenant is built. */
export interface SessionCommitSettings {
  cookieName: string;
  /** The secret new cookies are signed with. */
  secret: string;
  rolling: boolean;
  saveUninitialized: boolean;
  store: TenantSessionStore;
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

const logger = new Logger('TenantSession');
/** A commit that throws is a bug of the app or of stored data, which a client can repeat. */
const commitFailures = new ThrottledLogger('TenantSession', 60_000);
const CONTENT_HEADERS = [
  'content-type',
  'content-length',
  'content-encoding',
  'etag',
  'last-modified',
];

/**
 * Acknowledged means stored. As the response is about to end, before any of it is written, a
 * changed session is saved (or an unchanged one's TTL restarted when the read did not already),
 * and a failure answers instead of the response: 503 JSON, or the 401 of a session revoked
 * meanwhile, with no session cookie. The session cookie is set with the headers, when
 * express-session would set it and the answer is not an error. A response that streamed its
 * headers before ending can no longer change: its session is saved before its last bytes, and a
 * failure is logged. Whatever throws on the way (a cookie the app made unserializable, session
 * data JSON cannot hold) ends the response too: 500 JSON without the session cookie, or, once
 * the headers went out, the response as the app wrote it.
 */
export function commitSessionOnResponse(
  req: Request,
  res: Response,
  settings: SessionCommitSettings,
  cookie: RequestCookie,
): void {
  let touched = false;
  const touch = (session: Session) => {
    if (touched) return;
    // express-session's rolling expiry: the stored and the sent cookie count from now.
    session.touch();
    touched = true;
  };

  /** The Set-Cookie line this response carries, if any; throws when the cookie cannot be one. */
  const sessionCookie = (): string | undefined => {
    const session = req.session;
    const sid = req.sessionID;
    // An error answer never carries the session cookie: a request that failed hands out no
    // session and no new expiry. A redirect does carry it: a form login answers 302 with its
    // new session.
    if (!session || typeof sid !== 'string' || res.statusCode >= 400) return undefined;
    if (!shouldSetCookie(session, sid, settings, cookie)) return undefined;
    if (session.cookie.secure && !isSecureRequest(req)) return undefined;
    touch(session);
    const value =
      sid === cookie.cookieId && cookie.signedCookie
        ? cookie.signedCookie
        : signedCookieValue(sid, settings.secret);
    return (session.cookie as SerializableCookie).serialize(settings.cookieName, value);
  };
  /** Made as the response ends, where a throw can still become the answer. */
  let prepared: { line: string | undefined } | undefined;
  let sent: string | undefined;

  onHeaders(res, () => {
    try {
      // The status again: a failure may answer in place of the response the line was made for.
      if (res.statusCode >= 400) return;
      const line = prepared ? prepared.line : sessionCookie();
      if (line !== undefined) appendSetCookie(res, (sent = line));
    } catch (error) {
      // Headers the app streamed are going out: now the response can only go without it.
      commitFailures.error(`Setting the session cookie failed (${errorSummary(error)})`);
    }
  });

  const end = res.end as End;
  let ending = false;
  let failed = false;
  /** Ends the response whatever threw: 500 JSON while nothing is sent, else what was written. */
  const fail = (error: unknown) => {
    if (failed) return;
    failed = true;
    commitFailures.error(
      `Committing a session failed (${errorSummary(error)}): answered without its cookie`,
    );
    dropSession(req, () => {
      try {
        if (res.headersSent) return void (res.writableEnded || end.call(res));
        if (sent !== undefined) removeSetCookie(res, sent);
        answerFailure(req, res, end, new InternalServerErrorException());
      } catch {
        // Nothing more can be written: close the connection rather than leave the client waiting.
        res.destroy();
      }
    });
  };

  res.end = function (this: Response, ...args: unknown[]) {
    // A second end (the app's, while the save runs) must not end the response before it.
    if (ending) return this;
    ending = true;
    const finish = () => {
      if (!res.headersSent) prepared = { line: sessionCookie() };
      end.apply(this, args);
    };
    try {
      const session = req.session;
      const sid = req.sessionID;
      if (!session || typeof sid !== 'string') return end.apply(this, args);
      if (saveFailed(session)) return dropSession(req, () => end.apply(this, args));
      touch(session);
      const commit = commitFor(session, sid, settings, cookie);
      if (!commit) {
        finish();
        return this;
      }
      const streamed = res.headersSent;
      commit((error) => {
        // A commit that threw as it began was answered already.
        if (failed) return;
        try {
          if (!error) return finish();
          if (streamed) {
            logger.error('Storing a session after its response had started failed');
            return void end.apply(this, args);
          }
          dropSession(req, () => answerFailure(req, res, end, error));
        } catch (thrown) {
          fail(thrown);
        }
      });
    } catch (error) {
      fail(error);
    }
    return this;
  } as Response['end'];
}

/**
 * What must reach the store before the response ends: a save when the session changed, or is
 * new and worth keeping (saveUninitialized, or regenerated during the request, as
 * express-session keeps those); else the store's touch for a session the cookie named, unless
 * the load restarted its TTL moments ago; else nothing.
 */
function commitFor(
  session: Session,
  sid: string,
  settings: SessionCommitSettings,
  cookie: RequestCookie,
): ((done: (error?: unknown) => void) => void) | undefined {
  const keep = !isPersisted(session) && (settings.saveUninitialized || sid !== cookie.loadedId);
  if (hasChanged(session) || keep) return (done) => session.save(done);
  if (sid !== cookie.cookieId || !settings.store.touchIsDue(sid, session)) return undefined;
  return (done) => void settings.store.touch(sid, session, done);
}

/** express-session's rule for when a response carries the session cookie. */
function shouldSetCookie(
  session: Session,
  sid: string,
  settings: SessionCommitSettings,
  cookie: RequestCookie,
): boolean {
  const modified = () =>
    sid !== cookie.loadedId || ttlRestartOf(session)?.by === 'write' || hasChanged(session);
  return sid !== cookie.cookieId
    ? settings.saveUninitialized || modified()
    : settings.rolling || (session.cookie.expires != null && modified());
}

function appendSetCookie(res: Response, cookie: string): void {
  res.setHeader('Set-Cookie', [...setCookies(res), cookie]);
}

function removeSetCookie(res: Response, cookie: string): void {
  res.setHeader(
    'Set-Cookie',
    setCookies(res).filter((line) => line !== cookie),
  );
}

function setCookies(res: Response): string[] {
  const previous = res.getHeader('Set-Cookie');
  return previous === undefined ? [] : Array.isArray(previous) ? previous : [String(previous)];
}

/** The `cookie` package's messages, which name the attribute it refused and nothing else. */
const COOKIE_PACKAGE_MESSAGE = /^(?:option|argument) \w+ is invalid$/;

/**
 * An error as a fixed text for a log line: its name, and the message only when it is one of the
 * cookie package's (any other could quote session data, and would defeat the throttling).
 */
function errorSummary(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  return COOKIE_PACKAGE_MESSAGE.test(error.message)
    ? `${error.name}: ${error.message}`
    : error.name;
}

/** No cookie and no second save for a session that was not stored. */
function dropSession<T>(req: Request, then: () => T): T {
  (req as { session?: unknown }).session = undefined;
  return then();
}

function answerFailure(req: Request, res: Response, end: End, error: unknown): void {
  const exception =
    error instanceof HttpException ? error : new SessionStoreUnavailableException('save failed');
  if (!(error instanceof HttpException)) {
    logger.error(`Session save failed: ${(error as Error)?.name ?? 'error'}`);
  }
  const response = exception.getResponse();
  const body = JSON.stringify(
    typeof response === 'string'
      ? { statusCode: exception.getStatus(), message: response }
      : response,
  );
  for (const header of CONTENT_HEADERS) res.removeHeader(header);
  res.statusCode = exception.getStatus();
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  end.call(res, req.method === 'HEAD' ? undefined : body);
}
