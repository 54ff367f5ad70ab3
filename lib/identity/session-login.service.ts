import { Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { SessionData } from 'express-session';
import { RESOLVED_OPTIONS, type ResolvedOptions } from '../options/resolved-options.js';
import { SessionRevocationService } from '../revocation/session-revocation.service.js';
import { requireRequestContext } from '../session/request-context.js';
import { requestSessionMaxAge } from '../session/session-id.js';
import { markSaveFailed } from '../session/session-state.js';
import { checkUserId } from '../user-index/user-id.js';

export interface LoginOptions {
  /** Fields to put in the new session before its first save. */
  data?: Partial<SessionData>;
  /** This session's own idle timeout in ms ("remember me"); default: the tenant's idle TTL. */
  maxAge?: number;
}

/**
 * Logs users in and out. A login gets a new session id (no fixation), is bound to the user (a
 * binding app data cannot forge or change), indexed, stored and confirmed before this resolves;
 * it is refused (LoginRevokedException) when a revocation of the user raced it. Logins made
 * any other way (passport, the app's own fields, see the `identity` option) are indexed too.
 */
@Injectable()
export class SessionLoginService {
  constructor(
    private readonly revocation: SessionRevocationService,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
  ) {}

  async login(req: Request, userId: string, options: LoginOptions = {}): Promise<void> {
    checkUserId(userId);
    const { tenantSession } = requireRequestContext(req);
    if (options.maxAge !== undefined) requestSessionMaxAge(req, options.maxAge);
    await callback((done) => tenantSession.store.regenerate(req, done));
    const session = req.session;
    if (options.maxAge !== undefined) session.cookie.maxAge = options.maxAge;
    Object.assign(session, options.data);
    tenantSession.store.bindLogin(session, userId, req);
    await callback((done) => session.save(done));
    const cap = this.options.maxSessionsPerUser;
    if (cap === undefined) return;
    try {
      await this.revocation.enforceCap(tenantSession.tenant, userId, cap, req);
    } catch (error) {
      // The login stands (indexed) but is not acknowledged: no cookie goes out with the error.
      markSaveFailed(session);
      throw error;
    }
  }

  /** Destroys this request's session (and its index entry) and clears its cookie. */
  async logout(req: Request, res: Response): Promise<void> {
    const { tenantSession } = requireRequestContext(req);
    const { store, cookieName, cookieDomain } = tenantSession;
    if (req.session) await store.end(req);
    res.clearCookie(cookieName, { path: this.options.cookie.path, domain: cookieDomain });
  }

  /** The user this request's session belongs to, if it is logged in (by any means). */
  userId(req: Request): string | undefined {
    return requireRequestContext(req).tenantSession.store.identityOf(req.session);
  }
}

function callback(run: (done: (err?: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => run((err) => (err ? reject(err) : resolve())));
}
