import { ForbiddenException } from '@nestjs/common';

/**
 * Why an unsafe request was refused as a possible cross-site request forgery:
 * - `CSRF_REJECTED`: the browser says it came from another origin (`Sec-Fetch-Site` other than
 *   `same-origin`, or an `Origin` that is neither this site nor a trusted one);
 * - `CSRF_TOKEN_INVALID`: token mode is on and the request's token is missing or wrong.
 */
export type CsrfRejection = 'CSRF_REJECTED' | 'CSRF_TOKEN_INVALID';

const MESSAGES: Record<CsrfRejection, string> = {
  CSRF_REJECTED:
    "Cross-origin request refused: unsafe requests must come from this site's own pages " +
    '(or an origin listed in csrf.trustedOrigins)',
  CSRF_TOKEN_INVALID:
    'Missing or invalid CSRF token: send the token csrfToken(req) gives in the CSRF token header',
};

/**
 * An unsafe request (not GET, HEAD or OPTIONS) refused by the module's CSRF defence, before
 * its session was loaded when the browser's own headers gave it away. 403 with a `code`.
 */
export class CsrfRejectedException extends ForbiddenException {
  constructor(readonly code: CsrfRejection = 'CSRF_REJECTED') {
    super({ statusCode: 403, error: 'Forbidden', code, message: MESSAGES[code] });
  }
}
