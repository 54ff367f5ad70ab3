import type { SessionRequest } from '../session/session-request.js';
import { InvalidSessionPageException } from '../errors/invalid-session-page.exception.js';
import type { IndexPosition } from '../store/user-index-store.interface.js';
import type { ActiveSession } from './active-session.interface.js';

/** Sessions a page holds unless `limit` says otherwise. */
export const DEFAULT_SESSION_PAGE_LIMIT = 100;
/** The most sessions one page may hold: what one listing may cost, whatever the user has. */
export const MAX_SESSION_PAGE_LIMIT = 1000;

/** Which page of a user's sessions `SessionRevocationService.list` returns. */
export interface SessionListOptions {
  /** Most sessions on the page, 1 to 1,000. Default 100. */
  limit?: number;
  /** The `nextCursor` of the previous page, as it was; leave out for the first page. */
  cursor?: string;
  /** The request whose own session is marked `current`. */
  current?: SessionRequest;
}

/**
 * One page of a user's sessions. Walk them all by asking again with `cursor: nextCursor` until a
 * page has no `nextCursor`: each page costs the same few round trips however many sessions the
 * user has. Pages follow the user's index (earliest lease first); within a page, oldest login
 * first. A walk lists every session that lives through it at least once; one used during the
 * walk whose index lease was renewed then (at most once per idle TTL) may be listed again on a
 * later page, one that begins during the walk may or may not be, one that ends during it may
 * still be. `id` is stable, so a client that merges pages keeps one entry per `id`.
 */
export interface SessionPage {
  sessions: ActiveSession[];
  /**
   * How many sessions the user has: the entries of their index, less those this page found
   * ended. An upper bound: a session that ended by idle timeout stays counted until a listing
   * finds it or its lease passes (at most 2 idle TTLs). A page may hold fewer than `limit`
   * sessions though more follow (the ended ones it found are left out).
   */
  total: number;
  /** Where the next page starts; absent on the last page. Opaque, and names no session. */
  nextCursor?: string;
}

/** What a page request asks of the index, once checked. */
export interface IndexPageRequest {
  limit: number;
  after?: IndexPosition;
}

/** `<lease>.<digest>`: the index position of the previous page's last entry. */
const CURSOR = /^(\d{1,15})\.([0-9a-f]{40})$/;

/** Checks a page request; an unusable limit or cursor is an InvalidSessionPageException (400). */
export function checkPageRequest({ limit, cursor }: SessionListOptions): IndexPageRequest {
  const pageLimit = limit ?? DEFAULT_SESSION_PAGE_LIMIT;
  if (!Number.isInteger(pageLimit) || pageLimit < 1 || pageLimit > MAX_SESSION_PAGE_LIMIT) {
    throw InvalidSessionPageException.limit(limit, MAX_SESSION_PAGE_LIMIT);
  }
  if (cursor === undefined) return { limit: pageLimit };
  const match = typeof cursor === 'string' ? CURSOR.exec(cursor) : null;
  if (!match) throw InvalidSessionPageException.cursor();
  return { limit: pageLimit, after: { until: Number(match[1]), digest: match[2] } };
}

/** The cursor a client sends back for the page after `position`. */
export function cursorAfter(position: IndexPosition): string {
  return `${position.until}.${position.digest}`;
}
