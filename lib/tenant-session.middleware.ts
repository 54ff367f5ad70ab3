import { Inject, Injectable, Logger, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { performance } from 'node:perf_hooks';
import { CsrfRejectedException } from './errors/csrf-rejected.exception.js';
import {
  browserSignals,
  isAllowedOrigin,
  isUnsafeMethod,
  requestOrigin,
} from './http/csrf-origin-check.js';
import { isValidCsrfToken } from './http/csrf-token.js';
import type { ResolvedCsrf } from './options/csrf-options.js';
import { RESOLVED_OPTIONS, type ResolvedOptions } from './options/resolved-options.js';
import { saveBeforeResponding } from './session/acknowledged-save.js';
import { dropDuplicateSessionCookies } from './session/duplicate-session-cookies.js';
import { setRequestContext } from './session/request-context.js';
import { TenantSessionRegistry, type TenantSession } from './session/tenant-session.registry.js';
import { OperationBudget } from './store/operation-budget.js';
import { TenantIdentifier } from './tenancy/tenant-identifier.js';

/**
 * The request's entry point, once per request: resolve the tenant (an unknown one ends here,
 * before Redis), refuse an unsafe request a browser says came from elsewhere (CSRF, also before
 * Redis), keep one session cookie of several, run that tenant's express-session middleware,
 * check the CSRF token in token mode, make sure a changed session is stored before the response
 * says so, then run the app's `afterSession` middleware (`passport.session()`, ...), which need
 * the session and so cannot sit in front of this one. Errors are thrown rather than handed to
 * Express, so Nest's exception layer answers them as JSON (503 when the store is down).
 */
@Injectable()
export class TenantSessionMiddleware implements NestMiddleware {
  private readonly logger = new Logger('TenantSession');

  constructor(
    private readonly identifier: TenantIdentifier,
    private readonly registry: TenantSessionRegistry,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
  ) {}

  async use(req: Request, res: Response, next: NextFunction): Promise<void> {
    const arrivedAt = performance.now();
    const tenant = await this.identifier.identify(req);
    const tenantSession = await this.registry.get(tenant);
    const csrf = isUnsafeMethod(req.method) ? this.options.csrf : undefined;
    if (csrf) refuseForgedRequest(req, tenantSession, csrf);
    const budget = new OperationBudget(this.options.operationTimeoutMs);
    setRequestContext(req, { tenantSession, arrivedAt, budget });
    await dropDuplicateSessionCookies(req, tenantSession, budget);
    const loading = performance.now();
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      tenantSession.middleware(req, res, (err?: unknown) => {
        // express-session may call back again to report a save that happened after the
        // response started (a streamed response); saveBeforeResponding handles all others.
        if (settled) {
          if (err) {
            this.logger.error('A session save or touch after a streamed response failed');
          }
          return;
        }
        settled = true;
        return err ? reject(err) : resolve();
      });
    });
    // The load had a budget of its own; what it took comes out of the request's.
    budget.spend(performance.now() - loading);
    if (csrf?.tokenHeader && !isValidCsrfToken(req, req.get(csrf.tokenHeader))) {
      throw new CsrfRejectedException('CSRF_TOKEN_INVALID');
    }
    saveBeforeResponding(req, res, this.options.saveUninitialized);
    for (const handler of this.options.afterSession) await runHandler(handler, req, res);
    next();
  }
}

/**
 * The CSRF checks that need no session, so a refused request costs Redis nothing: where the
 * browser says the request came from, and, in token mode, that a token was sent at all.
 */
function refuseForgedRequest(req: Request, tenantSession: TenantSession, csrf: ResolvedCsrf): void {
  const own = () => requestOrigin(req);
  if (!isAllowedOrigin(browserSignals(req), own, tenantSession.trustedOrigins)) {
    throw new CsrfRejectedException('CSRF_REJECTED');
  }
  if (csrf.tokenHeader && !req.get(csrf.tokenHeader)) {
    throw new CsrfRejectedException('CSRF_TOKEN_INVALID');
  }
}

/**
 * Runs one `afterSession` middleware to its `next()`; what it throws, rejects with or passes to
 * `next` is thrown from here, for Nest's exception layer. One that answers the request itself
 * (never calling `next`) ends the chain there.
 */
function runHandler(handler: RequestHandler, req: Request, res: Response): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const returned: unknown = handler(req, res, (err?: unknown) => (err ? reject(err) : resolve()));
    if (returned instanceof Promise) returned.catch(reject);
  });
}
