import { WsException } from '@nestjs/websockets';

/**
 * A gateway handler needs a logged-in session and the socket has none (or its session ended):
 * the client gets an `exception` event `{ status: 'error', message: 'Login required', ... }`.
 * Thrown by `SessionAuthGuard` and `@SessionUserId()` in gateways.
 */
export class WsLoginRequiredException extends WsException {
  constructor() {
    super('Login required');
  }
}
