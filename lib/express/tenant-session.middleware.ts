import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { TenantSessionEntry } from '../http/tenant-session-entry.js';
import type { CommitObserver, SessionCommit } from '../session/session-commit.js';
import { commitOnResponse } from './response-commit.js';

/**
 * The module's middleware in an Express app: the request is already what resolvers and the
 * CSRF checks read, and the commit holds the response's end (response-commit.ts).
 */
@Injectable()
export class TenantSessionMiddleware extends TenantSessionEntry<Request, Response> {
  protected view(req: Request): Request {
    return req;
  }

  protected target(req: Request): string {
    return req.originalUrl;
  }

  protected commitOn(
    req: Request,
    res: Response,
    commit: SessionCommit,
    observer: CommitObserver | undefined,
  ): void {
    commitOnResponse(req, res, commit, observer);
  }
}
