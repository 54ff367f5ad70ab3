import type { Request } from 'express';

/** Methods that must not change anything, so a forged one can do no harm. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isUnsafeMethod(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

/** What a browser says about where a request comes from (undefined: header absent). */
export interface BrowserSignals {
  secFetchSite?: string;
  origin?: string;
}

/**
 * Whether an unsafe request may have come from a page it may come from, by what browsers add
 * to every request they send (a page cannot forge either header):
 * - `Sec-Fetch-Site: same-origin` passes. Any other value does not, `same-site` included:
 *   tenants on subdomains of one domain are same-site to each other, and the SameSite=Lax
 *   session cookie rides along on requests between them. A trusted `Origin` still passes (a
 *   console on another host sends `same-site` or `cross-site` with its own origin).
 * - Without it (older browsers), `Origin` must be the request's own origin or a trusted one;
 *   `Origin: null` (sandboxed frames, redirects, `file:` pages) never is.
 * - Without either, the request did not come from a browser that sends them (API clients,
 *   scripts, curl): it passes, since no browser page forged it.
 * `ownOrigin` is asked for only when needed (it costs a URL parse).
 */
export function isAllowedOrigin(
  signals: BrowserSignals,
  ownOrigin: () => string | undefined,
  trustedOrigins: ReadonlySet<string>,
): boolean {
  const { secFetchSite, origin } = signals;
  if (secFetchSite === 'same-origin') return true;
  if (origin === undefined) return secFetchSite === undefined;
  if (trustedOrigins.has(origin)) return true;
  return secFetchSite === undefined && origin !== 'null' && origin === ownOrigin();
}

/** The browser signals of an Express request. */
export function browserSignals(req: Request): BrowserSignals {
  return { secFetchSite: header(req, 'sec-fetch-site'), origin: header(req, 'origin') };
}

/**
 * The origin this request was sent to, as a browser writes `Origin` (lower case, no default
 * port): its scheme and host as Express reads them, so `X-Forwarded-Proto` and
 * `X-Forwarded-Host` count exactly when the app's `trust proxy` trusts the sender, as they do
 * for tenant resolution. Undefined for a request without a usable host.
 */
export function requestOrigin(req: Request): string | undefined {
  const host = req.host;
  if (!host) return undefined;
  try {
    return new URL(`${req.protocol}://${host}`).origin;
  } catch {
    return undefined;
  }
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
