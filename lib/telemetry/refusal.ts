import { CsrfRejectedException } from '../errors/csrf-rejected.exception.js';
import { LoginRevokedException } from '../errors/login-revoked.exception.js';
import { SessionRevokedException } from '../errors/session-revoked.exception.js';
import { SessionStoreUnavailableException } from '../errors/session-store-unavailable.exception.js';
import type { Refusal } from './session-telemetry.js';

/**
 * The refusal an error answers, when it is one the `tenant_session.refusals` counter counts:
 * 401 for a session or login revoked in flight, 403 for a forged request (CSRF), 503 when the
 * store could not serve. Other errors (an unknown tenant, the app's own) are not refusals.
 */
export function refusalOf(error: unknown): Refusal | undefined {
  if (error instanceof SessionStoreUnavailableException) return { status: 503, code: error.code };
  if (error instanceof CsrfRejectedException) return { status: 403, code: error.code };
  if (error instanceof SessionRevokedException || error instanceof LoginRevokedException) {
    return { status: 401, code: error.code };
  }
  return undefined;
}
