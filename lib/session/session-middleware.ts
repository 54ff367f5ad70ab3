import type { Request, Response } from 'express';
import { Cookie, Session, type CookieOptions, type SessionData } from 'express-session';
import type { OperationBudget } from '../store/operation-budget.js';
import { isWithinCookiePath } from './cookie-path.js';
import { commitSessionOnResponse, type SessionCommitSettings } from './session-commit.js';
import { cookieValue, isSecureRequest, verifySessionCookie } from './session-cookie.js';
import type { TenantSessionStore } from './tenant-session.store.js';

/** One tenant's session cookie and how its sessions are made and kept. */
export interface SessionMiddlewareSettings {
  cookieName: string;
  /** The first signs new cookies; all verify (rotation). */
  secrets: readonly string[];
  cookie: CookieOptions;
  rolling: boolean;
  saveUninitialized: boolean;
  generateId(req: Request): string;
}

/**
 * One tenant's session middleware: `req.session` as express-session makes it (its own `Session`
 * and `Cookie` classes, so passport and application code see the object they know, and the
 * store's `generate`, `regenerate`, `createSession` work as with express-session), with the
 * request path built for this store instead of any store:
 * - the load runs on the request's budget and a failure is thrown, for a 503;
 * - the cookie header is read for one name, and a verified cookie is reused as the Set-Cookie
 *   value, so an unchanged session costs one signature check and no signing;
 * - whether the session changed is the store's record (one JSON serialization at the end), not
 *   two hashes of it;
 * - the session is saved, or its TTL restarted, before anything of the response is written, and
 *   the response goes out in one write (see session-commit.ts).
 */
export class SessionMiddleware {
  /** What every commit of this tenant's sessions shares. */
  private readonly commit: SessionCommitSettings;

  constructor(
    private readonly store: TenantSessionStore,
    private readonly settings: SessionMiddlewareSettings,
  ) {
    store.generate = (req) => this.generate(req);
    this.commit = {
      cookieName: settings.cookieName,
      secret: settings.secrets[0],
      rolling: settings.rolling,
      saveUninitialized: settings.saveUninitialized,
      store,
    };
  }

  /** Gives the request its session (loaded, or new) and commits it as the response ends. */
  async run(req: Request, res: Response, budget: OperationBudget): Promise<void> {
    const { cookie, cookieName, secrets } = this.settings;
    // A cookie scoped to a path is never sent outside it: no session there, as express-session.
    if (cookie.path && !isWithinCookiePath(req.originalUrl, cookie.path)) return;
    req.sessionStore = this.store as unknown as Request['sessionStore'];
    const header = req.headers.cookie;
    const raw = header === undefined ? undefined : cookieValue(header, cookieName);
    const verified = raw === undefined ? undefined : verifySessionCookie(raw, secrets);
    const cookieId = verified?.sid;
    const data = cookieId === undefined ? null : await this.store.loadForRequest(cookieId, budget);
    if (data) {
      req.sessionID = cookieId!;
      this.store.createSession(req, data);
    } else {
      this.generate(req);
    }
    commitSessionOnResponse(req, res, this.commit, {
      cookieId,
      signedCookie: verified?.signedByCurrentSecret ? raw : undefined,
      loadedId: req.sessionID,
    });
  }

  /** A new session for the request (express-session's `store.generate`): new id, fresh cookie. */
  private generate(req: Request): void {
    const options = this.settings.cookie;
    req.sessionID = this.settings.generateId(req);
    const session = new (Session as unknown as new (req: Request, data?: SessionData) => Session)(
      req,
    );
    const cookie = new (Cookie as unknown as new (options: CookieOptions) => Cookie)(options);
    if (options.secure === 'auto') cookie.secure = isSecureRequest(req);
    if ((options.sameSite as string) === 'auto')
      cookie.sameSite = isSecureRequest(req) ? 'none' : 'lax';
    session.cookie = cookie;
    req.session = session as Request['session'];
  }
}
