import { hmacSha256, sameDigest } from '../util/hmac.js';
import { LruCache } from '../util/lru-cache.js';

/**
 * The session id in one cookie value (`s:<id>.<signature>`), when one of `secrets` signed it:
 * cookie-signature's `s:` scheme, as express-session checks it. An unsigned or forged value is
 * no session id, as it is for express-session.
 */
export function unsignedSessionId(raw: string, secrets: readonly string[]): string | undefined {
  return verifySessionCookie(raw, secrets)?.sid;
}

/** A cookie value's session id, and whether the first (current) secret signed it. */
export interface VerifiedSessionCookie {
  readonly sid: string;
  readonly signedByCurrentSecret: boolean;
}

/**
 * Cookie values verified lately, process-wide, with the secrets that verified them: every
 * request of a session sends the same value, and a lookup costs a fraction of the slicing and
 * HMAC checking. Only values that verified, and only for the very same secrets (another
 * tenant's, or rotated ones, check again). Bounded: 4,096 entries, about 1 MB.
 */
const verified = new LruCache<
  string,
  { secrets: readonly string[]; cookie: VerifiedSessionCookie }
>(4096);

/**
 * The session id in one cookie value when one of `secrets` signed it, and whether the first
 * (current) one did: then the value is exactly what a Set-Cookie for that id would carry.
 */
export function verifySessionCookie(
  raw: string,
  secrets: readonly string[],
): VerifiedSessionCookie | undefined {
  const known = verified.get(raw);
  if (known?.secrets === secrets) return known.cookie;
  if (!raw.startsWith('s:')) return undefined;
  const dot = raw.lastIndexOf('.');
  if (dot < 2) return undefined;
  const sid = raw.slice(2, dot);
  const given = raw.slice(dot + 1);
  for (let i = 0; i < secrets.length; i++) {
    if (sameDigest(signature(sid, secrets[i]), given)) {
      const cookie = { sid, signedByCurrentSecret: i === 0 };
      verified.set(raw, { secrets, cookie });
      return cookie;
    }
  }
  return undefined;
}

/** The cookie value that carries `sid` signed with `secret` (cookie-signature's `s:` scheme). */
export function signedCookieValue(sid: string, secret: string): string {
  return `s:${sid}.${signature(sid, secret)}`;
}

/** cookie-signature's signature: HMAC-SHA256, base64 without padding. */
export function signature(value: string, secret: string): string {
  return hmacSha256(secret, value, 'base64').replace(/=+$/, '');
}

/** One cookie's value, as the `cookie` package parses it for express-session: the first wins. */
export function cookieValue(header: string, name: string): string | undefined {
  // Pair by pair without splitting the header: only the pair with the name is parsed.
  for (let start = 0; start < header.length;) {
    const semicolon = header.indexOf(';', start);
    const end = semicolon === -1 ? header.length : semicolon;
    const eq = header.indexOf('=', start);
    if (eq !== -1 && eq < end && header.slice(start, eq).trim() === name) {
      return parseCookiePair(header.slice(start, end))?.value;
    }
    start = end + 1;
  }
  return undefined;
}

/**
 * One `name=value` pair of a Cookie header (split at `;`), as the `cookie` package parses it:
 * none without `=`, surrounding whitespace and double quotes go, `%`-escapes are decoded (left
 * as they are when malformed).
 */
export function parseCookiePair(pair: string): { name: string; value: string } | undefined {
  const eq = pair.indexOf('=');
  if (eq === -1) return undefined;
  const name = pair.slice(0, eq).trim();
  let value = pair.slice(eq + 1).trim();
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    value = value.slice(1, -1);
  }
  if (!value.includes('%')) return { name, value };
  try {
    return { name, value: decodeURIComponent(value) };
  } catch {
    return { name, value };
  }
}
