import {
  createParamDecorator,
  type ExecutionContext,
  type PipeTransform,
  type Type,
} from '@nestjs/common';
import type { Request } from 'express';
import type { SessionData } from 'express-session';

/**
 * The request's session (`@Session() session: SessionData`), or one of its fields
 * (`@Session('user') user: SessionData['user']`). Fields are typed by augmenting
 * express-session's `SessionData` interface.
 */
// Typed by hand: left to inference, the emitted declaration would freeze `keyof SessionData`
// to express-session's own keys, and fields added by declaration merging would not compile.
export const Session: (
  field?: keyof SessionData,
  ...pipes: (Type<PipeTransform> | PipeTransform)[]
) => ParameterDecorator = createParamDecorator(
  (field: keyof SessionData | undefined, context: ExecutionContext) => {
    const session = context.switchToHttp().getRequest<Request>().session;
    return field === undefined ? session : session?.[field];
  },
);
