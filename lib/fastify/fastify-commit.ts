import { InternalServerErrorException, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { performance } from 'node:perf_hooks';
import {
  errorSummary,
  failureAnswer,
  type CommitObserver,
  type SessionCommit,
} from '../session/session-commit.js';
import { ThrottledLogger } from '../util/throttled-logger.js';

/** A request's commit, from the middleware (which sees the Node request) to `onSend`. */
interface HeldCommit {
  commit: SessionCommit;
  observer: CommitObserver | undefined;
}

const HELD = Symbol('tenant-session fastify commit');
type WithCommit = object & { [HELD]?: HeldCommit };

const logger = new Logger('TenantSession');
/** A commit that throws is a bug of the app or of stored data, which a client can repeat. */
const commitFailures = new ThrottledLogger('TenantSession', 60_000);
const CONTENT_HEADERS = ['content-length', 'content-encoding', 'etag', 'last-modified'];

/** Keeps the commit on the Node request until the reply is sent. */
export function holdCommit(
  req: object,
  commit: SessionCommit,
  observer: CommitObserver | undefined,
): void {
  (req as WithCommit)[HELD] = { commit, observer };
}

/**
 * Runs a request's session commit in Fastify's `onSend`, where the reply has its status and
 * headers and nothing of it is written yet. Acknowledged means stored: the commit's work (a
 * save, or a TTL restart) runs first, and a failure answers instead of the reply (503 JSON, or
 * the 401 of a session revoked meanwhile), with no session cookie; a stream the app answered
 * with is destroyed unread. Then the session cookie is set (never on an error answer), and an
 * answer that carries it, or answers a request that carried it, is `no-store`. Whatever throws
 * on the way (a cookie the app made unserializable, session data JSON cannot hold) answers 500
 * JSON without the cookie. Runs once per request; returns the payload to send.
 */
export async function commitOnSend(
  req: object,
  reply: FastifyReply,
  payload: unknown,
): Promise<unknown> {
  const held = (req as WithCommit)[HELD];
  if (!held) return payload;
  (req as WithCommit)[HELD] = undefined;
  const { commit, observer } = held;
  const began = performance.now();
  const committed = () => observer?.committed(performance.now() - began);
  try {
    const work = commit.work();
    if (work === 'drop') {
      committed();
      commit.drop();
      return payload;
    }
    const error = work ? await new Promise<unknown>((resolve) => work(resolve)) : undefined;
    committed();
    if (error) {
      observer?.answered(error);
      commit.drop();
      return answer(reply, payload, error);
    }
    const line = commit.cookieLine(reply.statusCode);
    if (line !== undefined) reply.header('set-cookie', line);
    if (commit.noStore(line !== undefined, reply.hasHeader('cache-control'))) {
      reply.header('cache-control', 'no-store');
    }
    return payload;
  } catch (error) {
    commitFailures.error(
      `Committing a session failed (${errorSummary(error)}): answered without its cookie`,
    );
    commit.drop();
    return answer(reply, payload, new InternalServerErrorException());
  }
}

/** The failure's JSON in place of the reply's own. */
function answer(reply: FastifyReply, payload: unknown, error: unknown): string {
  if (!(error instanceof Error && 'getStatus' in error)) {
    logger.error(`Session save failed: ${(error as Error)?.name ?? 'error'}`);
  }
  const stream = payload as { destroy?: () => void } | null;
  if (typeof stream?.destroy === 'function') stream.destroy();
  const { status, body } = failureAnswer(error);
  for (const header of CONTENT_HEADERS) reply.removeHeader(header);
  reply.code(status);
  reply.header('content-type', 'application/json; charset=utf-8');
  return body;
}
