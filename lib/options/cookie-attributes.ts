import type { CookieOptions } from 'express-session';
import { InvalidTenantSessionOptionsError } from '../errors/invalid-options.error.js';

/**
 * Set-Cookie names and attributes as the `cookie` package accepts them. express-session's Cookie
 * serializes whatever it holds with that package, which throws on anything else, and it does so
 * as a response ends. So the module's options are held to these at start-up, and stored
 * sessions as they are read (session/session-codec.ts): no value a response carries can throw.
 */

/** The package's test of a cookie name: an RFC 7230 token. */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Its test of a Domain: RFC 1034 labels of letters, digits and inner hyphens, a leading dot. */
const COOKIE_DOMAIN =
  /^([.]?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)([.][a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

export function isCookieName(name: string): boolean {
  return COOKIE_NAME.test(name);
}

/** A Path: printable ASCII but `;` (the package refuses `<` too). */
export function isCookiePath(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i);
    if (code < 0x20 || code > 0x7e || code === 0x3b || code === 0x3c) return false;
  }
  return true;
}

export function isCookieDomain(domain: string): boolean {
  return COOKIE_DOMAIN.test(domain);
}

/** A SameSite the package writes: true (Strict), false (left out), or a name in any case. */
export function isSameSite(value: unknown): boolean {
  if (typeof value === 'boolean' || value === 'lax' || value === 'strict' || value === 'none') {
    return true;
  }
  if (typeof value !== 'string') return false;
  const name = value.toLowerCase();
  return name === 'lax' || name === 'strict' || name === 'none';
}

/** A Priority the package writes: a name in any case. */
export function isCookiePriority(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const name = value.toLowerCase();
  return name === 'low' || name === 'medium' || name === 'high';
}

/**
 * Refuses a cookie name or cookie options the package would throw on with every response.
 * `secure` and `sameSite` may also be `'auto'`: the session middleware decides them per request.
 */
export function checkCookieAttributes(where: string, name: string, cookie: CookieOptions): void {
  const problems: string[] = [];
  const { path, domain, sameSite, secure, priority } = cookie;
  if (!isCookieName(name)) problems.push(`the name ${JSON.stringify(name)} is not a token`);
  if (path && (typeof path !== 'string' || !isCookiePath(path))) {
    problems.push(`cookie.path ${JSON.stringify(path)} has a character a path cannot hold`);
  }
  if (domain && (typeof domain !== 'string' || !isCookieDomain(domain))) {
    problems.push(`cookie.domain ${JSON.stringify(domain)} is not a domain name`);
  }
  if (sameSite !== undefined && (sameSite as string) !== 'auto' && !isSameSite(sameSite)) {
    problems.push(`cookie.sameSite must be 'lax', 'strict', 'none', 'auto' or a boolean`);
  }
  if (secure !== undefined && secure !== 'auto' && typeof secure !== 'boolean') {
    problems.push(`cookie.secure must be a boolean or 'auto'`);
  }
  for (const flag of ['httpOnly', 'partitioned'] as const) {
    if (cookie[flag] !== undefined && typeof cookie[flag] !== 'boolean') {
      problems.push(`cookie.${flag} must be a boolean`);
    }
  }
  if (priority !== undefined && !isCookiePriority(priority)) {
    problems.push(`cookie.priority must be 'low', 'medium' or 'high'`);
  }
  if (problems.length === 0) return;
  throw new InvalidTenantSessionOptionsError(
    `${where}: no Set-Cookie could carry this session cookie: ${problems.join('; ')}`,
  );
}
