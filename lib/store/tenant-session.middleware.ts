import { Injectable, Logger, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { requireRequestTenant } from '../tenancy/request-tenant.js';
import { TenantSessionRegistry } from './tenant-session.registry.js';

/**
 * Runs the request's tenant's express-session middleware. Errors are thrown rather than handed
 * to Express, so Nest's exception layer answers them as JSON (503 when the store is down).
 */
@Injectable()
export class TenantSessionMiddleware implements NestMiddleware {
  private readonly logger = new Logger('TenantSession');

  constructor(private readonly registry: TenantSessionRegistry) {}

  async use(req: Request, res: Response, next: NextFunction): Promise<void> {
    const { middleware } = await this.registry.get(requireRequestTenant(req));
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
