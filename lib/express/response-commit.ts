import { InternalServerErrorException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { performance } from 'node:perf_hooks';
import onHeaders from 'on-headers';
import {
  errorSummary,
  failureAnswer,
  type CommitObserver,
  type SessionCommit,
} from '../session/session-commit.js';
import { ThrottledLogger } from '../util/throttled-logger.js';

type End = (this: Response, ...args: unknown[]) => Response;

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
 * Runs a request's session commit on an Express response. Acknowledged means stored: as the
 * response is about to end, before any of it is written, the commit's work runs (a save, or a
 * TTL restart), and a failure answers instead of the response (503 JSON, or the 401 of a session
 * revoked meanwhile), with no session cookie. The session cookie is set with the headers. A
 * response that streamed its headers before ending can no longer change: its session is saved
 * before its last bytes, and a failure is logged. Whatever throws on the way (a cookie the app
 * made unserializable, session data JSON cannot hold) ends the response too: 500 JSON without
 * the session cookie, or, once the headers went out, the response as the app wrote it. An answer
 * that carries the session cookie, or answers a request that carried it, is `no-store`.
 * `observer` hears of the failure answered and of the time the commit took.
 */
export function commitOnResponse(
  req: Request,
  res: Response,
  commit: SessionCommit,
  observer?: CommitObserver,
): void {
  /** Made as the response ends, where a throw can still become the answer. */
  let prepared: { line: string | undefined } | undefined;
  let sent: string | undefined;

  onHeaders(res, () => {
    let line: string | undefined;
    try {
      // The status again: a failure may answer in place of the response the line was made for.
      line = prepared && res.statusCode < 400 ? prepared.line : commit.cookieLine(res.statusCode);
      if (line !== undefined) appendSetCookie(res, (sent = line));
    } catch (error) {
      // Headers the app streamed are going out: now the response can only go without it.
      commitFailures.error(`Setting the session cookie failed (${errorSummary(error)})`);
    }
    if (commit.noStore(line !== undefined, res.hasHeader('Cache-Control'))) {
      res.setHeader('Cache-Control', 'no-store');
    }
  });

  const end = res.end as End;
  let ending = false;
  let failed = false;
  let began = 0;
  let observed = false;
  /** Once per response, however it ended. */
  const committed = () => {
    if (observed) return;
    observed = true;
    observer?.committed(performance.now() - began);
  };
  /** Ends the response whatever threw: 500 JSON while nothing is sent, else what was written. */
  const fail = (error: unknown) => {
    if (failed) return;
    failed = true;
    committed();
    commitFailures.error(
      `Committing a session failed (${errorSummary(error)}): answered without its cookie`,
    );
    commit.drop();
    try {
      if (res.headersSent) return void (res.writableEnded || end.call(res));
      if (sent !== undefined) removeSetCookie(res, sent);
      answer(req, res, end, new InternalServerErrorException());
    } catch {
      // Nothing more can be written: close the connection rather than leave the client waiting.
      res.destroy();
    }
  };

  res.end = function (this: Response, ...args: unknown[]) {
    // A second end (the app's, while the save runs) must not end the response before it.
    if (ending) return this;
    ending = true;
    began = performance.now();
    const finish = () => {
      committed();
      if (!res.headersSent) prepared = { line: commit.cookieLine(res.statusCode) };
      end.apply(this, args);
    };
    try {
      const work = commit.work();
      if (work === 'drop') {
        committed();
        commit.drop();
        return end.apply(this, args);
      }
      if (!work) {
        finish();
        return this;
      }
      const streamed = res.headersSent;
      work((error) => {
        // A commit that threw as it began was answered already.
        if (failed) return;
        try {
          if (!error) return finish();
          committed();
          if (streamed) {
            logger.error('Storing a session after its response had started failed');
            return void end.apply(this, args);
          }
          observer?.answered(error);
          commit.drop();
          answer(req, res, end, error);
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

/** Answers the failure's JSON in place of the response. */
function answer(req: Request, res: Response, end: End, error: unknown): void {
  if (!(error instanceof Error && 'getStatus' in error)) {
    logger.error(`Session save failed: ${(error as Error)?.name ?? 'error'}`);
  }
  const { status, body } = failureAnswer(error);
  for (const header of CONTENT_HEADERS) res.removeHeader(header);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  end.call(res, req.method === 'HEAD' ? undefined : body);
}
