import {
  createParamDecorator,
  type ExecutionContext,
  type PipeTransform,
  type Type,
} from '@nestjs/common';
import type { Request } from 'express';
import type { SessionData } from 'express-session';
import { requireSocketSession } from '../realtime/socket-session.js';

/**
 * The request's session (`@Session() session: SessionData`), or one of its fields
 * (`@Session('user') user: SessionData['user']`). Fields are typed by augmenting
 * express-session's `SessionData` interface. In a WebSocket gateway: the socket's session as
 * read at its handshake (a read-only snapshot; undefined for an anonymous socket).
 */
// Typed by hand: left to inference, the emitted declaration would freeze `keyof SessionData`
// to express-session's own keys, and fields added by declaration merging would not compile.
export const Session: (
  field?: keyof SessionData,
  ...pipes: (Type<PipeTransform> | PipeTransform)[]
) => ParameterDecorator = createParamDecorator(
  (field: keyof SessionData | undefined, context: ExecutionContext) => {
    const session: Partial<SessionData> | undefined =
      context.getType() === 'ws'
        ? requireSocketSession(context.switchToWs().getClient()).data.session
        : context.switchToHttp().getRequest<Request>().session;
    return field === undefined ? session : session?.[field];
  },
);
