import type { SessionData } from 'express-session';
import type { IncomingMessage } from 'node:http';

/** The event a socket gets just before it is disconnected because its session ended. */
export const SESSION_ENDED_EVENT = 'session:ended';

/**
 * Why a socket's session ended: revoked (by anyone, on any instance), logged out, idle too long,
 * or gone: no longer in Redis before its expiry, with no revocation or logout heard of (Redis
 * lost it, restarted empty or failed over with lost writes; another service deleted it; or the
 * news went past while this instance's subscriber was cut off).
 */
export type SessionEndReason = 'revoked' | 'logout' | 'expired' | 'gone';

/** The payload of `session:ended`, for the client to show. */
export interface SessionEndedMessage {
  reason: SessionEndReason;
}

/** What `TenantSessionIoAdapter` puts on `socket.data` at the handshake. */
export interface TenantSocketData {
  tenant: string;
  /**
   * The session as stored when the socket connected (and whenever it was checked again since):
   * a read-only snapshot, never saved. Undefined for an anonymous socket.
   */
  session?: SessionData;
  /** Who the session belongs to (see the `identity` option); undefined when nobody. */
  userId?: string;
  /** The session's handle, as session listings show it; never the session id. */
  sessionHandle?: string;
}

/** The parts of a socket.io `Socket` the library uses (the main entry point cannot import socket.io). */
export interface SessionSocket {
  data: unknown;
  readonly request: IncomingMessage;
  emit(event: string, ...args: unknown[]): unknown;
  disconnect(close?: boolean): unknown;
  once(event: 'disconnect', listener: () => void): unknown;
}

/** What the library keeps about a socket, out of the app's reach (`socket.data` is the app's). */
export interface SocketSessionState {
  data: TenantSocketData;
  /** Set only while the socket has a logged-in session. */
  sid?: string;
  /** When the handshake started reading the session (performance.now()). */
  readAt: number;
  /** Its remaining TTL then, in ms. */
  ttlMs: number;
  /** The error a gateway answers for "login required": a `WsException`, made by the adapter. */
  loginRequired(): Error;
}

const states = new WeakMap<object, SocketSessionState>();

export function setSocketSession(socket: object, state: SocketSessionState): void {
  states.set(socket, state);
}

export function getSocketSession(socket: object): SocketSessionState | undefined {
  return states.get(socket);
}

/**
 * The socket's session, for guards and decorators in a gateway; a clear error when the socket
 * did not come through TenantSessionIoAdapter (Nest then logs it).
 */
export function requireSocketSession(socket: unknown): SocketSessionState {
  const state = typeof socket === 'object' && socket !== null ? states.get(socket) : undefined;
  if (!state) {
    throw new Error(
      'This socket has no tenant session: set the adapter with ' +
        '`app.useWebSocketAdapter(new TenantSessionIoAdapter(app))` ' +
        "(from 'nestjs-tenant-session/socket.io')",
    );
  }
  return state;
}
