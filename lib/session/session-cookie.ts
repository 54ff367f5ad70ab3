import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The session id a Cookie header carries under `name`, when its signature verifies with one of
 * `secrets`; what express-session reads (its cookie parsing and cookie-signature's `s:` scheme),
 * for requests express-session never sees, such as a WebSocket handshake. A missing, unsigned
 * or forged cookie is no session id, as it is for express-session.
 */
export function signedSessionId(
  header: string | undefined,
  name: string,
  secrets: readonly string[],
): string | undefined {
  return unsignedSessionId(header === undefined ? undefined : cookieValue(header, name), secrets);
}

/** The session id in one cookie value (`s:<id>.<signature>`), when one of `secrets` signed it. */
export function unsignedSessionId(
  raw: string | undefined,
  secrets: readonly string[],
): string | undefined {
  if (!raw?.startsWith('s:')) return undefined;
  const signed = raw.slice(2);
  const dot = signed.lastIndexOf('.');
  if (dot === -1) return undefined;
  const value = signed.slice(0, dot);
  const given = Buffer.from(signed);
  for (const secret of secrets) {
    const expected = Buffer.from(`${value}.${signature(value, secret)}`);
    if (expected.length === given.length && timingSafeEqual(expected, given)) return value;
  }
  return undefined;
}

/** cookie-signature's signature: HMAC-SHA256, base64 without padding. */
export function signature(value: string, secret: string): string {
  return createHmac('sha256', secret).update(value).digest('base64').replace(/=+$/, '');
}

/** One cookie's value, as the `cookie` package parses it for express-session: the first wins. */
function cookieValue(header: string, name: string): string | undefined {
  for (const pair of header.split(';')) {
    const cookie = parseCookiePair(pair);
    if (cookie?.name === name) return cookie.value;
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
