import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { requireSocketSession } from '../realtime/socket-session.js';
import { getRequestTenant } from '../session/request-context.js';

/** The tenant id resolved (and validated) for this request, or for this socket in a gateway. */
export const Tenant = createParamDecorator((_: unknown, context: ExecutionContext) =>
  context.getType() === 'ws'
    ? requireSocketSession(context.switchToWs().getClient()).data.tenant
    : getRequestTenant(context.switchToHttp().getRequest<Request>()),
);
