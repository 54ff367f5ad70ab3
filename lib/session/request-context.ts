import type { TenantSessions } from './tenant-sessions.js';

/**
 * The tenant a request belongs to and that tenant's session machinery, set once by the module's
 * middleware (or a socket's handshake) and read by everything downstream: guards, decorators,
 * services. Kept on the request under a symbol private to this module.
 */
export interface RequestContext {
  tenant: TenantSessions;
}

const CONTEXT = Symbol('tenant-session request context');
type WithContext = object & { [CONTEXT]?: RequestContext };

export function setRequestContext(req: object, context: RequestContext): void {
  (req as WithContext)[CONTEXT] = context;
}

export function getRequestContext(req: object | undefined): RequestContext | undefined {
  return (req as WithContext | undefined)?.[CONTEXT];
}

/** The tenant id resolved (and validated) for this request, for guards, interceptors, services. */
export function getRequestTenant(req: object): string | undefined {
  return getRequestContext(req)?.tenant.tenant;
}

/** The request's tenant machinery, or a clear error when the module's middleware did not run. */
export function requireTenantSessions(req: object): TenantSessions {
  const context = getRequestContext(req);
  if (!context) {
    throw new Error(
      'No session on this request: the route is outside TenantSessionModule forRoutes/exclude',
    );
  }
  return context.tenant;
}

/** The user this request's session belongs to, if it is logged in (by any means). */
export function sessionUserId(req: object & { session?: object }): string | undefined {
  return getRequestContext(req)?.tenant.owners.identityOf(req.session);
}
