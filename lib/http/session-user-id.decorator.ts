import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { LoginRequiredException } from '../errors/login-required.exception.js';
import { requireSocketSession } from '../realtime/socket-session.js';
import { sessionUserId } from '../session/request-context.js';
import type { SessionRequest } from '../session/session-request.js';

/**
 * The id of the user the request's session belongs to (`@SessionUserId() userId: string`);
 * answers 401 JSON when the session has none, so handlers never see `undefined`. In a WebSocket
 * gateway: the socket's user, or the `WsException` 'Login required'.
 */
export const SessionUserId = createParamDecorator((_: unknown, context: ExecutionContext) => {
  if (context.getType() === 'ws') {
    const socket = requireSocketSession(context.switchToWs().getClient());
    if (socket.data.userId === undefined) throw socket.loginRequired();
    return socket.data.userId;
  }
  const userId = sessionUserId(context.switchToHttp().getRequest<SessionRequest>());
  if (userId === undefined) throw new LoginRequiredException();
  return userId;
});
