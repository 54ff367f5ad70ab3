import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { SessionData } from 'express-session';

/**
 * The request's session (`@Session() session: SessionData`), or one of its fields
 * (`@Session('user') user: SessionData['user']`). Fields are typed by augmenting
 * express-session's `SessionData` interface.
 */
export const Session = createParamDecorator(
  (field: keyof SessionData | undefined, context: ExecutionContext) => {
    const session = context.switchToHttp().getRequest<Request>().session;
    return field === undefined ? session : session?.[field];
  },
);
