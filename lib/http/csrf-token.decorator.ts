import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { csrfToken } from './csrf-token.js';

/**
 * The request's CSRF token (see `csrfToken(req)`), for handlers that render a page or answer
 * the token to their client: `page(@CsrfToken() token: string)`.
 */
export const CsrfToken: () => ParameterDecorator = createParamDecorator(
  (_: unknown, context: ExecutionContext) =>
    csrfToken(context.switchToHttp().getRequest<Request>()),
);
