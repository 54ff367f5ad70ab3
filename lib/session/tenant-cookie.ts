import type { CookieOptions } from 'express-session';
import type { OperationBudget } from '../store/operation-budget.js';
import {
  dropDuplicateSessionCookies,
  sessionIdFromCookies,
  type SessionCookieJar,
} from './duplicate-session-cookies.js';
import { unsignedSessionId } from './session-cookie.js';
import type { SessionReader } from './session-reader.js';
import type { SessionRequest } from './session-request.js';

/**
 * One tenant's session cookie: its name, attributes and secrets, and which session a request's
 * Cookie header names (its signature checked as express-session checks it, and of several
 * cookies of the name, the one duplicate-session-cookies.ts picks).
 */
export class TenantCookie implements SessionCookieJar {
  constructor(
    readonly cookieName: string,
    /** The first signs new cookies; all verify (rotation). */
    readonly secrets: readonly string[],
    /** The cookie's attributes, the tenant's domain included. */
    readonly options: CookieOptions,
    private readonly reader: SessionReader,
  ) {}

  verifiedSessionId(cookieValue: string): string | undefined {
    return unsignedSessionId(cookieValue, this.secrets);
  }

  async existing(sids: string[], budget: OperationBudget): Promise<Set<string>> {
    const stored = await this.reader.inspect(sids, budget);
    return new Set(sids.filter((_, i) => stored[i].value !== null));
  }

  /**
   * The session id a request with this Cookie header runs with, for requests the session
   * loader never sees (a socket handshake): the one an HTTP request would run with.
   */
  sessionIdFrom(
    cookieHeader: string | undefined,
    budget: OperationBudget,
  ): Promise<string | undefined> {
    return sessionIdFromCookies(cookieHeader, this, budget);
  }

  /** Leaves at most one cookie of this name in the request's header (undefined: nothing to do). */
  dropDuplicates(req: SessionRequest, budget: OperationBudget): Promise<void> | undefined {
    return dropDuplicateSessionCookies(req, this, budget);
  }
}
