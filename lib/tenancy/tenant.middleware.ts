import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { UnknownTenantException } from '../http/unknown-tenant.exception.js';
import { RESOLVED_OPTIONS, type ResolvedOptions } from '../resolved-options.js';
import { setRequestTenant } from './request-tenant.js';
import { normalizeTenantId } from './tenant-id.js';

/**
 * Resolves the tenant once per request and validates it before anything can reach Redis.
 * An unknown or invalid tenant ends the request with a 4xx JSON answer.
 */
@Injectable()
export class TenantMiddleware implements NestMiddleware {
  constructor(@Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions) {}

  async use(req: Request, _res: Response, next: NextFunction): Promise<void> {
    const tenant = normalizeTenantId(await this.options.resolveTenant(req));
    if (tenant === undefined) throw new UnknownTenantException(this.options.unknownTenantStatus);
    setRequestTenant(req, tenant);
    next();
  }
}
