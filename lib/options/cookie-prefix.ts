import type { CookieOptions } from 'express-session';
import { InvalidTenantSessionOptionsError } from '../errors/invalid-options.error.js';

/**
 * Browsers accept a cookie named `__Host-…` only when it is Secure, host-only (no Domain) and
 * scoped to Path=/, so no sibling subdomain can set, overwrite or shadow it; `__Secure-…` only
 * when it is Secure. A cookie configured otherwise would be dropped by every browser and nobody
 * could log in, so it is refused at start-up instead (the prefixes match case-insensitively, as
 * browsers now match them). `secure: 'auto'` passes: the cookie is Secure on HTTPS requests,
 * the only ones a browser would take it from.
 */
export function checkCookiePrefix(
  where: string,
  name: string,
  cookie: Pick<CookieOptions, 'path' | 'domain' | 'secure'>,
): void {
  const prefix = /^__(host|secure)-/i.exec(name)?.[1]?.toLowerCase();
  if (prefix === undefined) return;
  const problems: string[] = [];
  if (cookie.secure === false) problems.push('cookie.secure must not be false');
  if (prefix === 'host') {
    if ((cookie.path ?? '/') !== '/') problems.push(`the path must be "/" (not "${cookie.path}")`);
    if (cookie.domain) problems.push(`no domain may be set (it is "${cookie.domain}")`);
  }
  if (problems.length === 0) return;
  throw new InvalidTenantSessionOptionsError(
    `${where}: browsers only accept a cookie named "${name}" when ${
      prefix === 'host' ? 'it is Secure, host-only and at path "/"' : 'it is Secure'
    }: ${problems.join('; ')}. Fix the cookie options or pick a name without the prefix.`,
  );
}
