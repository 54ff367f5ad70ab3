import type { IncomingHttpHeaders } from 'node:http';
import type { Session, SessionData, Store } from 'express-session';

/**
 * A request as the session core sees it, whatever the platform: the object `req.session` lives
 * on, as express-session (and passport) expect it. Express's request is one; another platform's
 * binding gives its own request these fields.
 */
export interface SessionRequest {
  headers: IncomingHttpHeaders;
  session?: Session & Partial<SessionData>;
  sessionID?: string;
  sessionStore?: Store;
}
