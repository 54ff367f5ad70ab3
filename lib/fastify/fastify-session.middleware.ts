import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import type { ServerResponse } from 'node:http';
import { TenantSessionEntry } from '../http/tenant-session-entry.js';
import type { CommitObserver, SessionCommit } from '../session/session-commit.js';
import { holdCommit } from './fastify-commit.js';
import { fastifyRequestView, type MiddieRequest } from './fastify-request-view.js';

/**
 * The module's middleware in a Fastify app. Nest runs it through @fastify/middie, on the Node
 * request (nestjs/nest#9927), so the session loads there, where the app's own Nest middleware
 * sees it too; the hooks (fastify-session.hooks.ts) show it on Fastify's request and run the
 * commit in `onSend`, where the reply can still change.
 */
@Injectable()
export class FastifyTenantSessionMiddleware extends TenantSessionEntry<
  MiddieRequest,
  ServerResponse
> {
  protected view(req: MiddieRequest): Request {
    return fastifyRequestView(req);
  }

  protected target(req: MiddieRequest): string {
    return req.originalUrl;
  }

  protected commitOn(
    req: MiddieRequest,
    _res: ServerResponse,
    commit: SessionCommit,
    observer: CommitObserver | undefined,
  ): void {
    holdCommit(req, commit, observer);
  }
}
