import type { Request } from 'express';
import { UnknownTenantException } from '../errors/unknown-tenant.exception.js';
import { normalizeTenantId } from './tenant-id.js';
import type { TenantResolverFn } from './tenant-resolution.interface.js';

/**
 * Finds a request's tenant with the configured strategy and validates the id before anything
 * can reach Redis; an unknown or invalid tenant is an UnknownTenantException (4xx JSON).
 */
export class TenantIdentifier {
  constructor(
    private readonly resolve: TenantResolverFn,
    private readonly unknownTenantStatus: number,
  ) {}

  async identify(req: Request): Promise<string> {
    const tenant = normalizeTenantId(await this.resolve(req));
    if (tenant === undefined) throw new UnknownTenantException(this.unknownTenantStatus);
    return tenant;
  }
}
