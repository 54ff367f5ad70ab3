import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { getRequestTenant } from '../tenancy/request-tenant.js';

/** The tenant id resolved (and validated) for this request. */
export const Tenant = createParamDecorator((_: unknown, context: ExecutionContext) =>
  getRequestTenant(context.switchToHttp().getRequest<Request>()),
);
