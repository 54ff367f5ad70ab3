/**
 * `nestjs-tenant-session/socket.io`: the socket.io adapter for gateways. An entry point of its
 * own, so the main one never loads socket.io or @nestjs/websockets, optional peer dependencies.
 */
export {
  TenantSessionIoAdapter,
  type TenantSessionIoAdapterOptions,
} from './tenant-session-io.adapter.js';
export { WsLoginRequiredException } from './ws-login-required.exception.js';
export type { HandshakeRefusal } from '../errors/handshake-refused.error.js';
export type { HandshakeRequest } from '../realtime/handshake-request.js';
export {
  SESSION_ENDED_EVENT,
  type SessionEndReason,
  type SessionEndedMessage,
  type TenantSocketData,
} from '../realtime/socket-session.js';
