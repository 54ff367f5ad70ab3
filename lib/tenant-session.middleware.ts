import { Injectable, Logger, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { TenantSessionRegistry } from './store/tenant-session.registry.js';
import { setRequestTenant } from './tenancy/request-tenant.js';
import { TenantIdentifier } from './tenancy/tenant-identifier.js';

/**
 * The request's entry point, once per request: resolve the tenant (an unknown one ends here,
 * before Redis), then run that tenant's express-session middleware. One middleware rather than
 * two saves a router layer on every request. Errors are thrown rather than handed to Express,
 * so Nest's exception layer answers them as JSON (503 when the store is down).
 */
@Injectable()
export class TenantSessionMiddleware implements NestMiddleware {
  private readonly logger = new Logger('TenantSession');

  constructor(
    private readonly identifier: TenantIdentifier,
    private readonly registry: TenantSessionRegistry,
  ) {}

  async use(req: Request, res: Response, next: NextFunction): Promise<void> {
    const tenant = await this.identifier.identify(req);
    setRequestTenant(req, tenant);
    const { middleware } = await this.registry.get(tenant);
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      middleware(req, res, (err?: unknown) => {
        if (!settled) {
          settled = true;
          return err ? reject(err) : resolve();
        }
        // express-session reports a failed save at the end of the response through `next` again.
        if (err) this.logger.error(`Session could not be saved: ${(err as Error).message ?? err}`);
      });
    });
    next();
  }
}
