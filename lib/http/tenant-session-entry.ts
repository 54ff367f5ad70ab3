import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler } from 'express';
import { performance } from 'node:perf_hooks';
import { CsrfRejectedException } from '../errors/csrf-rejected.exception.js';
import type { ResolvedCsrf } from '../options/csrf-options.js';
import { RESOLVED_OPTIONS, type ResolvedOptions } from '../options/resolved-options.js';
import { setRequestContext } from '../session/request-context.js';
import { setRequestFacts } from '../session/request-facts.js';
import type { CommitObserver, SessionCommit } from '../session/session-commit.js';
import type { SessionRequest } from '../session/session-request.js';
import { TenantSessionRegistry } from '../session/tenant-session.registry.js';
import type { TenantSessions } from '../session/tenant-sessions.js';
import { OperationBudget } from '../store/operation-budget.js';
import { TenantIdentifier } from '../tenancy/tenant-identifier.js';
import { refusalOf } from '../telemetry/refusal.js';
import { SessionTelemetry } from '../telemetry/session-telemetry.js';
import { ThrottledLogger } from '../util/throttled-logger.js';
import {
  browserSignals,
  isAllowedOrigin,
  isUnsafeMethod,
  requestOrigin,
} from './csrf-origin-check.js';
import { isValidCsrfToken } from './csrf-token.js';
import { clientOf, isSecureRequest } from './request-client.js';

/**
 * Said when `req.session` is set before the tenant's session loads. express-session leaves such a
 * session alone; here the tenant's session replaces it, so guards, logins and revocation see the
 * session the tenant's store holds. It is usually another session middleware still in `main.ts`,
 * whose end-of-response save would then run on the tenant's session too.
 */
const SESSION_ALREADY_SET =
  "req.session was already set when the tenant's session loaded, and was replaced: is another " +
  'session middleware (app.use(session(...))) still running before this module?';

/**
 * The request's entry point, once per request, whatever the platform: resolve the tenant (an unknown one ends here,
 * before Redis), refuse an unsafe request a browser says came from elsewhere (CSRF, also before
 * Redis), keep one session cookie of several, load the session with that tenant's session
 * middleware, hand its commit to the platform (which makes sure a changed session is stored
 * before the response says so), check the CSRF token in token mode, then run the app's
 * `afterSession` middleware (`passport.session()`, ...), which need the session and so cannot
 * sit in front of this one. Errors are thrown rather than handed to the platform, so Nest's
 * exception layer answers them as JSON (503 when the store is down). Its refusals (403, 503) and
 * the request's session work are told to SessionTelemetry. A platform binding (lib/express,
 * lib/fastify) says how its requests read and where a commit runs.
 */
@Injectable()
export abstract class TenantSessionEntry<
  Req extends SessionRequest,
  Res extends object,
> implements NestMiddleware<Req, Res> {
  private readonly log = new ThrottledLogger('TenantSession', 60_000);

  constructor(
    private readonly identifier: TenantIdentifier,
    private readonly registry: TenantSessionRegistry,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
    private readonly telemetry: SessionTelemetry,
  ) {}

  /**
   * The request as tenant resolvers and the CSRF checks read it, with Express's getters
   * (`hostname`, `host`, `protocol`, `ip`, `get(name)`), the app's proxy settings applied.
   */
  protected abstract view(req: Req): Request;

  /** The request target as the client sent it (path and query), before any routing. */
  protected abstract target(req: Req): string;

  /** Runs the commit as the response ends, before any of it is written. */
  protected abstract commitOn(
    req: Req,
    res: Res,
    commit: SessionCommit,
    observer: CommitObserver | undefined,
  ): void;

  async use(req: Req, res: Res, next: NextFunction): Promise<void> {
    const arrivedAt = performance.now();
    const view = this.view(req);
    const tenantId = await this.identifier.identifyView(view);
    const tenant = this.registry.built(tenantId) ?? (await this.registry.get(tenantId));
    try {
      await this.load(req, res, view, tenant, arrivedAt);
    } catch (error) {
      const refusal = refusalOf(error);
      if (refusal) this.telemetry.refused(tenant, refusal);
      throw error;
    }
    for (const handler of this.options.afterSession) await runHandler(handler, req, res);
    next();
  }

  /** The tenant's session for this request, after the CSRF checks; its work timed. */
  private async load(
    req: Req,
    res: Res,
    view: Request,
    tenant: TenantSessions,
    arrivedAt: number,
  ): Promise<void> {
    const csrf = isUnsafeMethod(view.method) ? this.options.csrf : undefined;
    if (csrf) refuseForgedRequest(view, tenant, csrf);
    const budget = new OperationBudget(this.options.operationTimeoutMs, tenant.tenant);
    setRequestContext(req, { tenant });
    setRequestFacts(req, {
      arrivedAt,
      budget,
      client: clientOf(view),
      secure: isSecureRequest(view),
    });
    const dropping = tenant.cookie.dropDuplicates(req, budget);
    if (dropping) await dropping;
    if (req.session !== undefined) this.log.warn(SESSION_ALREADY_SET);
    const commit = await tenant.loader.load(req, this.target(req), budget);
    const loadedMs = performance.now() - arrivedAt;
    if (commit) this.commitOn(req, res, commit, this.observer(tenant, loadedMs));
    else this.telemetry.sessionWorkDone(tenant, loadedMs);
    if (csrf?.tokenHeader && !isValidCsrfToken(req, view.get(csrf.tokenHeader))) {
      throw new CsrfRejectedException('CSRF_TOKEN_INVALID');
    }
  }

  /** What the commit tells telemetry: the refusal it answered, the request's session work. */
  private observer(tenant: TenantSessions, loadedMs: number): CommitObserver | undefined {
    const { telemetry } = this;
    if (!telemetry.enabled) return undefined;
    return {
      answered(error) {
        const refusal = refusalOf(error);
        if (refusal) telemetry.refused(tenant, refusal);
      },
      committed: (workMs) => telemetry.sessionWorkDone(tenant, loadedMs + workMs),
    };
  }
}

/**
 * The CSRF checks that need no session, so a refused request costs Redis nothing: where the
 * browser says the request came from, and, in token mode, that a token was sent at all.
 */
function refuseForgedRequest(req: Request, tenant: TenantSessions, csrf: ResolvedCsrf): void {
  const own = () => requestOrigin(req);
  if (!isAllowedOrigin(browserSignals(req), own, tenant.trustedOrigins)) {
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
function runHandler(handler: RequestHandler, req: object, res: object): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const returned: unknown = (handler as (...args: unknown[]) => unknown)(
      req,
      res,
      (err?: unknown) => (err ? reject(err) : resolve()),
    );
    if (returned instanceof Promise) returned.catch(reject);
  });
}
