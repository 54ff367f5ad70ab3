import { Cookie, Session, type CookieOptions, type SessionData } from 'express-session';
import type { OperationBudget } from '../store/operation-budget.js';
import { isWithinCookiePath } from './cookie-path.js';
import { getRequestFacts } from './request-facts.js';
import { SessionCommit, type SessionCommitSettings } from './session-commit.js';
import { cookieValue, verifySessionCookie } from './session-cookie.js';
import type { SessionLifetime } from './session-lifetime.js';
import type { SessionReader } from './session-reader.js';
import type { SessionRequest } from './session-request.js';
import { SetCookieLines } from './set-cookie-line.js';
import type { TenantStore } from './tenant-store.js';

/** One tenant's session cookie and how its sessions are made and kept. */
export interface SessionLoaderSettings {
  cookieName: string;
  /** The first signs new cookies; all verify (rotation). */
  secrets: readonly string[];
  cookie: CookieOptions;
  rolling: boolean;
  saveUninitialized: boolean;
  generateId(req: SessionRequest): string;
}

type SessionConstructor = new (req: SessionRequest, data?: SessionData) => Session;
type CookieConstructor = new (options: CookieOptions) => Cookie;

/**
 * Gives a request its tenant's session: `req.session` as express-session makes it (its own
 * `Session` and `Cookie` classes, so passport and application code see the object they know,
 * and the store's `generate`, `regenerate`, `createSession` work as with express-session), with
 * the request path built for this store instead of any store:
 * - the load runs on the request's budget and a failure is thrown, for a 503;
 * - the cookie header is read for one name, and a verified cookie is reused as the Set-Cookie
 *   value, so an unchanged session costs one signature check and no signing;
 * - whether the session changed is the store's record (one JSON serialization at the end), not
 *   two hashes of it;
 * - what the response must store before it ends comes back as a SessionCommit, which the
 *   platform binding runs.
 */
export class TenantSessionLoader {
  private readonly commit: SessionCommitSettings;

  constructor(
    private readonly store: TenantStore,
    private readonly reader: SessionReader,
    lifetime: SessionLifetime,
    private readonly settings: SessionLoaderSettings,
  ) {
    store.generate = (req) => this.generate(req);
    this.commit = {
      cookieName: settings.cookieName,
      cookie: settings.cookie,
      secret: settings.secrets[0],
      cookieLines: new SetCookieLines(settings.cookieName),
      rolling: settings.rolling,
      saveUninitialized: settings.saveUninitialized,
      store,
      lifetime,
    };
  }

  /**
   * Gives the request its session (loaded, or new) and returns what its response must commit;
   * undefined outside the cookie's path, where a browser sends no cookie and express-session
   * gives no session. `path` is the request target's.
   */
  async load(
    req: SessionRequest,
    path: string,
    budget: OperationBudget,
  ): Promise<SessionCommit | undefined> {
    const { cookie, cookieName, secrets } = this.settings;
    if (cookie.path && !isWithinCookiePath(path, cookie.path)) return undefined;
    req.sessionStore = this.store;
    const header = req.headers.cookie;
    const raw = header === undefined ? undefined : cookieValue(header, cookieName);
    const verified = raw === undefined ? undefined : verifySessionCookie(raw, secrets);
    const cookieId = verified?.sid;
    const data = cookieId === undefined ? null : await this.reader.read(cookieId, budget);
    if (data) {
      req.sessionID = cookieId!;
      this.store.createSession(req, data);
    } else {
      this.generate(req);
    }
    const requestCookie = {
      cookieId,
      signedCookie: verified?.signedByCurrentSecret ? raw : undefined,
      loadedId: req.sessionID!,
    };
    return new SessionCommit(req, this.commit, requestCookie, isSecure(req));
  }

  /** A new session for the request (express-session's `store.generate`): new id, fresh cookie. */
  private generate(req: SessionRequest): void {
    const options = this.settings.cookie;
    req.sessionID = this.settings.generateId(req);
    const session = new (Session as unknown as SessionConstructor)(req);
    const cookie = new (Cookie as unknown as CookieConstructor)(options);
    if (options.secure === 'auto') cookie.secure = isSecure(req);
    if ((options.sameSite as string) === 'auto') cookie.sameSite = isSecure(req) ? 'none' : 'lax';
    session.cookie = cookie;
    req.session = session as SessionRequest['session'];
  }
}

function isSecure(req: SessionRequest): boolean {
  return getRequestFacts(req)?.secure === true;
}
