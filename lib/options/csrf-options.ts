import { InvalidTenantSessionOptionsError } from '../errors/invalid-options.error.js';
import { checkNestedKeys } from './option-keys.js';
import type { CsrfOptions } from './tenant-session-options.interface.js';

/** The CSRF defence as the middleware applies it. */
export interface ResolvedCsrf {
  /** Origins trusted for every tenant, as `URL.origin` writes them. */
  trustedOrigins: readonly string[];
  /** The lower-case header carrying the token in token mode; undefined when that is off. */
  tokenHeader?: string;
}

const DEFAULT_TOKEN_HEADER = 'x-csrf-token';
/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i;

/** Checks the `csrf` option; undefined when the defence is off (`csrf: false`). */
export function resolveCsrf(option: false | CsrfOptions | undefined): ResolvedCsrf | undefined {
  if (option === false) return undefined;
  if (option !== undefined && (typeof option !== 'object' || option === null)) {
    throw new InvalidTenantSessionOptionsError(
      'csrf must be false or an object such as { trustedOrigins: [...], token: true }',
    );
  }
  if (option) checkNestedKeys('csrf', option, ['trustedOrigins', 'token']);
  return {
    trustedOrigins: checkTrustedOrigins('csrf.trustedOrigins', option?.trustedOrigins),
    tokenHeader: tokenHeader(option?.token),
  };
}

/**
 * Checks a list of trusted origins: each written exactly as browsers send `Origin`
 * (`scheme://host[:port]`, lower case, no default port, no path), so comparing is plain equality.
 */
export function checkTrustedOrigins(where: string, origins: unknown): string[] {
  if (origins === undefined) return [];
  if (!Array.isArray(origins)) {
    throw new InvalidTenantSessionOptionsError(
      `${where} must be an array of origins such as ["https://admin.example.com"]`,
    );
  }
  return origins.map((origin: unknown) => checkOrigin(where, origin));
}

function checkOrigin(where: string, origin: unknown): string {
  const url = parseUrl(origin);
  if (url && (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === origin) {
    return origin;
  }
  const hint = url && url.origin !== 'null' ? ` (did you mean "${url.origin}"?)` : '';
  throw new InvalidTenantSessionOptionsError(
    `${where}: ${JSON.stringify(origin)} is not an origin: write scheme://host[:port] in lower ` +
      `case, without a path or a trailing slash, e.g. "https://admin.example.com"${hint}`,
  );
}

function parseUrl(value: unknown): URL | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

function tokenHeader(token: CsrfOptions['token']): string | undefined {
  if (token === undefined || token === false) return undefined;
  if (token === true) return DEFAULT_TOKEN_HEADER;
  if (typeof token === 'object' && token !== null) {
    checkNestedKeys('csrf.token', token, ['headerName']);
  }
  const name: unknown =
    typeof token === 'object' && token !== null
      ? (token.headerName ?? DEFAULT_TOKEN_HEADER)
      : token;
  if (typeof name !== 'string' || !HEADER_NAME.test(name)) {
    throw new InvalidTenantSessionOptionsError(
      `csrf.token must be true, false or { headerName } with an HTTP header name such as ` +
        `"x-csrf-token", got ${JSON.stringify(token)}`,
    );
  }
  return name.toLowerCase();
}
