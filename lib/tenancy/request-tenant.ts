import type { Request } from 'express';

/** Where the middleware leaves the resolved tenant; everything downstream reads it from here. */
const TENANT = Symbol('tenant-session.tenant');

type RequestWithTenant = Request & { [TENANT]?: string };

export function setRequestTenant(req: Request, tenant: string): void {
  (req as RequestWithTenant)[TENANT] = tenant;
}

export function getRequestTenant(req: Request): string | undefined {
  return (req as RequestWithTenant)[TENANT];
}

/** The request's tenant, or a clear error when the tenant middleware did not run for this route. */
export function requireRequestTenant(req: Request): string {
  const tenant = getRequestTenant(req);
  if (tenant === undefined) {
    throw new Error(
      'No tenant on this request: the route is outside TenantSessionModule forRoutes/exclude',
    );
  }
  return tenant;
}
