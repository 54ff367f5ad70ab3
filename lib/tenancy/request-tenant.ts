import type { Request } from 'express';

/**
 * Where the middleware leaves the resolved tenant; everything downstream reads it from here.
 * A WeakMap rather than a property: adding one to every request object changes its shape.
 */
const tenants = new WeakMap<Request, string>();

export function setRequestTenant(req: Request, tenant: string): void {
  tenants.set(req, tenant);
}

export function getRequestTenant(req: Request): string | undefined {
  return tenants.get(req);
}

/** The request's tenant, or a clear error when the module's middleware did not run for this route. */
export function requireRequestTenant(req: Request): string {
  const tenant = getRequestTenant(req);
  if (tenant === undefined) {
    throw new Error(
      'No tenant on this request: the route is outside TenantSessionModule forRoutes/exclude',
    );
  }
  return tenant;
}
