import type { Request } from 'express';
import { performance } from 'node:perf_hooks';
import { OperationBudget } from '../store/operation-budget.js';
import type { TenantSession } from './tenant-session.registry.js';

/**
 * What the middleware learns once per request and everything downstream reads: the tenant's
 * session machinery, when the request arrived (a login "began" then, for not-before), and the
 * budget all of the request's session work shares on Redis.
 */
export interface RequestContext {
  tenantSession: TenantSession;
  arrivedAt: number;
  budget: OperationBudget;
}

/**
 * On the request, under a symbol private to this module (no other code can name it): a field
 * load for each of the request's several lookups, where a WeakMap costs a hash lookup each and
 * weak entries for the garbage collector to trace.
 */
const CONTEXT = Symbol('tenant-session request context');
type WithContext = Request & { [CONTEXT]?: RequestContext };

export function setRequestContext(req: Request, context: RequestContext): void {
  (req as WithContext)[CONTEXT] = context;
}

export function getRequestContext(req: Request | undefined): RequestContext | undefined {
  return (req as WithContext | undefined)?.[CONTEXT];
}

/** The tenant id resolved (and validated) for this request, for guards, interceptors, services. */
export function getRequestTenant(req: Request): string | undefined {
  return getRequestContext(req)?.tenantSession.tenant;
}

/** The request's context, or a clear error when the module's middleware did not run for it. */
export function requireRequestContext(req: Request): RequestContext {
  const context = getRequestContext(req);
  if (!context) {
    throw new Error(
      'No session on this request: the route is outside TenantSessionModule forRoutes/exclude',
    );
  }
  return context;
}

/** How long ago the request arrived, by this process's monotonic clock (no wall clock). */
export function requestAgeMs(context: RequestContext | undefined): number {
  return context ? performance.now() - context.arrivedAt : 0;
}
