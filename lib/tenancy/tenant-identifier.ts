import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { UnknownTenantException } from '../http/unknown-tenant.exception.js';
import { RESOLVED_OPTIONS, type ResolvedOptions } from '../resolved-options.js';
import { normalizeTenantId } from './tenant-id.js';

/**
 * Finds a request's tenant with the configured strategy and validates the id before anything
 * can reach Redis; an unknown or invalid tenant is an UnknownTenantException (4xx JSON).
 */
@Injectable()
export class TenantIdentifier {
  constructor(@Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions) {}

  async identify(req: Request): Promise<string> {
    const tenant = normalizeTenantId(await this.options.resolveTenant(req));
    if (tenant === undefined) throw new UnknownTenantException(this.options.unknownTenantStatus);
    return tenant;
  }
}
