import { Logger } from '@nestjs/common';
import type { OperationBudget } from '../store/operation-budget.js';
import { cookieValue, parseCookiePair } from './session-cookie.js';
import type { SessionRequest } from './session-request.js';

const logger = new Logger('TenantSession');

/**
 * Which of several cookies of the session cookie's name a request should run with, by index:
 * express-session would take the first, and a sibling subdomain can toss one in front of ours
 * (`Domain=.example.com`, or a longer `Path`, sorts first) to shadow the session or pin the
 * visitor to one it knows. So a cookie whose signature verifies wins over one whose does not,
 * and, among those, one whose session exists over one whose session is gone; with no existing
 * session, the first that verifies (its id becomes a new session, as it would alone).
 *
 * Two existing sessions are ambiguous: nothing in a Cookie header tells the visitor's own from
 * a tossed one (the tosser's own session, which they can log in to), so neither is used and the
 * request runs without a session. A visitor in that state is logged out, never logged in as
 * someone else; `__Host-` cookie names rule the state out.
 *
 * `sids` are the ids the cookies carry (undefined: the signature does not verify); `existing`,
 * the ids whose session exists, is needed only when two distinct ids verify.
 */
export function pickSessionCookie(
  sids: readonly (string | undefined)[],
  existing?: ReadonlySet<string>,
): number | undefined {
  const verified = distinctVerified(sids);
  if (verified.length <= 1) return verified.length === 0 ? undefined : sids.indexOf(verified[0]);
  const alive = verified.filter((sid) => existing?.has(sid));
  if (alive.length > 1) return undefined;
  return sids.indexOf(alive[0] ?? verified[0]);
}

/** The distinct ids that verify, in order: those that need a look in the store to pick. */
function distinctVerified(sids: readonly (string | undefined)[]): string[] {
  return [...new Set(sids.filter((sid): sid is string => sid !== undefined))];
}

/** What telling a tenant's session cookies apart needs of its machinery (see TenantCookie). */
export interface SessionCookieJar {
  cookieName: string;
  /** The session id in one value of the session cookie, when its signature verifies. */
  verifiedSessionId(cookieValue: string): string | undefined;
  /** Which of these sessions exist, in one round trip. */
  existing(sids: string[], budget: OperationBudget): Promise<Set<string>>;
}

/**
 * Leaves at most one cookie of the tenant's session cookie name in the request's Cookie header,
 * the one `pickSessionCookie` picks, before the session middleware reads it. With one cookie of
 * that name (every request but an attacked one) this is a substring search and nothing to wait
 * for (undefined); with several, one round trip to see which sessions exist when two or more
 * verify, on the request's budget.
 */
export function dropDuplicateSessionCookies(
  req: SessionRequest,
  jar: SessionCookieJar,
  budget: OperationBudget,
): Promise<void> | undefined {
  const header = req.headers.cookie;
  if (header === undefined || !mayRepeat(header, jar.cookieName)) return undefined;
  return keepOneSessionCookie(req, header, jar, budget);
}

/**
 * The session id a request with this Cookie header runs with: the id of the cookie
 * `dropDuplicateSessionCookies` keeps, when it verifies. For requests the session middleware
 * never sees (a socket handshake), so they get the session an HTTP request would, never another.
 */
export async function sessionIdFromCookies(
  header: string | undefined,
  jar: SessionCookieJar,
  budget: OperationBudget,
): Promise<string | undefined> {
  if (header === undefined) return undefined;
  if (!mayRepeat(header, jar.cookieName)) {
    const raw = cookieValue(header, jar.cookieName);
    return raw === undefined ? undefined : jar.verifiedSessionId(raw);
  }
  const { candidates, winner } = await chooseSessionCookie(header, jar, budget);
  return winner === undefined ? undefined : candidates[winner].sid;
}

async function keepOneSessionCookie(
  req: SessionRequest,
  header: string,
  jar: SessionCookieJar,
  budget: OperationBudget,
): Promise<void> {
  const { pairs, candidates, winner } = await chooseSessionCookie(header, jar, budget);
  if (candidates.length < 2) return;
  const kept = winner === undefined ? undefined : candidates[winner].pair;
  req.headers.cookie = pairs
    .filter((pair) => pair.cookie?.name !== jar.cookieName || pair === kept)
    .map(({ text }) => text.trim())
    .join('; ');
}

interface CookiePair {
  text: string;
  cookie?: { name: string; value: string };
}

/** A Cookie header's pairs, those of the session cookie's name, and which of them wins. */
interface SessionCookieChoice {
  pairs: CookiePair[];
  candidates: { pair: CookiePair; sid?: string }[];
  winner?: number;
}

async function chooseSessionCookie(
  header: string,
  jar: SessionCookieJar,
  budget: OperationBudget,
): Promise<SessionCookieChoice> {
  const name = jar.cookieName;
  const pairs: CookiePair[] = header
    .split(';')
    .map((text) => ({ text, cookie: parseCookiePair(text) }));
  const candidates = pairs
    .filter(({ cookie }) => cookie?.name === name)
    .map((pair) => ({ pair, sid: jar.verifiedSessionId(pair.cookie!.value) }));
  const sids = candidates.map(({ sid }) => sid);
  const verified = distinctVerified(sids);
  const existing = verified.length > 1 ? await jar.existing(verified, budget) : undefined;
  const winner = pickSessionCookie(sids, existing);
  if (winner === undefined && verified.length > 0) {
    logger.warn(
      `A request carried "${name}" cookies of several existing sessions; it runs without ` +
        'a session (a cookie tossed from a sibling subdomain?)',
    );
  }
  return { pairs, candidates, winner };
}

/** Cheap and never wrong the other way: a name found at most once is at most one cookie. */
function mayRepeat(header: string, name: string): boolean {
  const first = header.indexOf(name);
  return first !== -1 && header.indexOf(name, first + name.length) !== -1;
}
