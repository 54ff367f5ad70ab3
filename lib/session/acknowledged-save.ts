import { HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { SessionStoreUnavailableException } from '../errors/session-store-unavailable.exception.js';
import { hasChanged, isPersisted, saveFailed } from './session-state.js';

type End = (this: Response, ...args: unknown[]) => Response;

const logger = new Logger('TenantSession');
const CONTENT_HEADERS = [
  'content-type',
  'content-length',
  'content-encoding',
  'etag',
  'last-modified',
];

/**
 * Acknowledged means stored. express-session saves a changed session after the response has
 * started and reports a failed save too late to change it; so this saves it first, when the
 * response is about to end, and answers the failure instead (503 JSON, or the 401 of a session
 * revoked meanwhile), with no session cookie. Unchanged sessions are not written. A response
 * that already streamed its headers keeps express-session's own save.
 */
export function saveBeforeResponding(
  req: Request,
  res: Response,
  saveUninitialized: boolean,
): void {
  const end = res.end as End;
  res.end = function (this: Response, ...args: unknown[]) {
    const session = req.session;
    if (session && saveFailed(session)) return dropSession(req, () => end.apply(this, args));
    const mustSave =
      session &&
      !res.headersSent &&
      (hasChanged(session) || (saveUninitialized && !isPersisted(session)));
    if (!mustSave) return end.apply(this, args);
    session.save((error?: unknown) => {
      if (!error) return void end.apply(this, args);
      dropSession(req, () => answerFailure(req, res, end, error));
    });
    return this;
  } as Response['end'];
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
