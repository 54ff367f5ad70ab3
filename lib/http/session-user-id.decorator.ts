import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { LoginRequiredException } from '../errors/login-required.exception.js';
import { getRequestContext } from '../session/request-context.js';

/**
 * The id of the user the request's session belongs to (`@SessionUserId() userId: string`);
 * answers 401 JSON when the session has none, so handlers never see `undefined`.
 */
export const SessionUserId = createParamDecorator((_: unknown, context: ExecutionContext) => {
  const req = context.switchToHttp().getRequest<Request>();
  const userId = getRequestContext(req)?.tenantSession.store.identityOf(req.session);
  if (userId === undefined) throw new LoginRequiredException();
  return userId;
});
