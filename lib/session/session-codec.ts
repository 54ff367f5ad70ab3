import {
  isCookieDomain,
  isCookiePath,
  isCookiePriority,
  isSameSite,
} from '../options/cookie-attributes.js';
import { MAX_SESSION_AGE_MS } from '../options/session-age-limit.js';
import { OWNER_FIELD, type SealedOwner, type StoredSessionData } from './stored-session.js';

/**
 * JSON exactly as connect-redis writes it, plus the sealed owner for sessions with an identity.
 * Whatever the application put in an `_owner` field is dropped: the binding is the library's.
 * `fields`, the JSON of every field but the cookie (session-state.ts `sessionFields`), saves
 * serializing the session a second time: the cookie then comes first.
 */
export function encodeSession(
  data: object,
  owner: SealedOwner | undefined,
  fields?: string,
): string {
  if (fields !== undefined && !(OWNER_FIELD in data)) {
    // Concatenated, not joined from an array: this runs on every modifying request.
    const { cookie } = data as { cookie?: unknown };
    let json = cookie === undefined ? '' : `"cookie":${JSON.stringify(cookie)}`;
    if (fields !== '{}') json += (json && ',') + fields.slice(1, -1);
    if (owner) json += `${json && ','}"${OWNER_FIELD}":${JSON.stringify(owner)}`;
    return `{${json}}`;
  }
  if (owner) return JSON.stringify({ ...data, [OWNER_FIELD]: owner });
  if (!(OWNER_FIELD in data)) return JSON.stringify(data);
  return JSON.stringify({ ...data, [OWNER_FIELD]: undefined });
}

/**
 * Deepest nesting of stored JSON that is still a session: JSON.stringify recurses, so data
 * nested much deeper would throw (RangeError) each time the session is compared or written.
 */
const MAX_DEPTH = 1000;

/**
 * Parses stored JSON; `undefined` means corrupt: not an object with a cookie express-session can
 * rebuild and serialize (see `isStoredCookie`), or nested deeper than it can be written back.
 * An `_owner` that is not shaped like one is returned as `unsealed`, to be ignored like a forged
 * one.
 */
export function decodeSession(
  raw: string,
): { data: StoredSessionData; owner?: SealedOwner; unsealed?: true } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!isObject(parsed) || !isObject(parsed.cookie) || !isStoredCookie(parsed.cookie)) {
    return undefined;
  }
  if (nestsTooDeep(raw)) return undefined;
  const owner = parsed[OWNER_FIELD];
  if (owner === undefined) return { data: parsed as StoredSessionData };
  // A copy without it, not a delete, which would leave the object in V8's slow dictionary mode
  // for every later use: express-session's copy of it, each change check, the save.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { [OWNER_FIELD]: _owner, ...rest } = parsed;
  const data = rest as StoredSessionData;
  return isSealedOwner(owner) ? { data, owner } : { data, unsealed: true };
}

/**
 * The session's own idle TTL: its cookie max-age when it has one, else the default. A cookie
 * with no max-age but an expiry date (data built by hand, as connect-redis's tests do; sessions
 * express-session makes always carry their max-age) lives until that date, as connect-redis
 * stores it: zero or less means the session is already over.
 */
export function sessionTtlMs(
  data: { cookie?: { originalMaxAge?: number | null; expires?: Date | string | null } },
  fallbackMs: number,
): number {
  const maxAge = data.cookie?.originalMaxAge;
  if (typeof maxAge === 'number' && Number.isFinite(maxAge)) return maxAge;
  const expires = data.cookie?.expires;
  const until = expires ? new Date(expires).getTime() : NaN;
  return Number.isFinite(until) ? until - Date.now() : fallbackMs;
}

/** The last path and domain found valid: every session of a tenant stores the same ones. */
let validPath = '/';
let validDomain: string | undefined;

/**
 * Whether express-session's Cookie, rebuilt from this, can be serialized as the response ends.
 * It copies every stored field onto itself, setters and methods included, so only its own
 * fields may be there (as `Cookie.data` writes them), each as the `cookie` package accepts it:
 * else `serialize` throws, or a setter throws on the `touch` that comes before it. Dates and
 * max-ages must land within the session age limit, and max-ages are whole ms (express-session
 * derives them from Dates), so each is a valid Expires and Redis TTL.
 */
function isStoredCookie(cookie: Record<string, unknown>): boolean {
  for (const field in cookie) {
    const value = cookie[field];
    switch (field) {
      case 'originalMaxAge':
        if (value !== null && !isStoredMaxAge(value)) return false;
        break;
      case 'expires':
        if (value !== null && !isStoredExpiry(value)) return false;
        break;
      case 'path':
        if (value === validPath || value === null) break;
        if (typeof value !== 'string' || !isCookiePath(value)) return false;
        validPath = value;
        break;
      case 'domain':
        if (value === validDomain || value === null || value === '') break;
        if (typeof value !== 'string' || !isCookieDomain(value)) return false;
        validDomain = value;
        break;
      case 'sameSite':
        if (value !== null && !isSameSite(value)) return false;
        break;
      case 'priority':
        if (value !== null && !isCookiePriority(value)) return false;
        break;
      case 'secure':
      case 'httpOnly':
      case 'partitioned':
        if (value !== null && typeof value !== 'boolean') return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

function isStoredMaxAge(value: unknown): boolean {
  return Number.isInteger(value) && Math.abs(value as number) <= MAX_SESSION_AGE_MS;
}

/**
 * An expiry as JSON writes a Date, no further from now than the age limit. Not a number: Cookie
 * keeps one as it is, and its `maxAge` would then read an epoch as an age.
 */
function isStoredExpiry(value: unknown): boolean {
  return (
    typeof value === 'string' && Math.abs(Date.parse(value) - Date.now()) <= MAX_SESSION_AGE_MS
  );
}

/** Whether JSON text (valid) nests arrays and objects deeper than MAX_DEPTH. */
function nestsTooDeep(raw: string): boolean {
  // Each level takes two characters, and at least one bracket: most values have too few of
  // either to go deep, which native searches tell without a loop over every character.
  if (raw.length <= 2 * MAX_DEPTH || countUpTo(raw, '{') + countUpTo(raw, '[') <= MAX_DEPTH) {
    return false;
  }
  let depth = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (inString) {
      if (code === 0x5c) i++;
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x7b || code === 0x5b) {
      if (++depth > MAX_DEPTH) return true;
    } else if (code === 0x7d || code === 0x5d) {
      depth--;
    }
  }
  return false;
}

/** How often `char` occurs in `text`, counting no further than MAX_DEPTH + 1. */
function countUpTo(text: string, char: string): number {
  let count = 0;
  for (
    let at = text.indexOf(char);
    at !== -1 && count <= MAX_DEPTH;
    at = text.indexOf(char, at + 1)
  ) {
    count++;
  }
  return count;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSealedOwner(value: unknown): value is SealedOwner {
  return (
    isObject(value) &&
    typeof value.userId === 'string' &&
    value.userId.length > 0 &&
    (value.via === 'login' || value.via === 'identity') &&
    typeof value.createdAt === 'number' &&
    typeof value.indexedUntil === 'number' &&
    (value.authenticatedAt === undefined || typeof value.authenticatedAt === 'number') &&
    typeof value.seal === 'string'
  );
}
