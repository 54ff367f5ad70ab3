import type { Request } from 'express';
import type { IncomingMessage } from 'node:http';

/**
 * Tenant resolvers are written against Express requests (`req.hostname`, `req.get(name)`), but
 * a WebSocket handshake (or any upgrade) arrives as a plain Node request that Express never saw.
 * This gives such a request Express's own getters, bound to the app's settings, so a resolver
 * sees over a socket exactly what it sees over HTTP: `X-Forwarded-Host` counts only when the
 * app's `trust proxy` trusts the sender. What middleware adds (body, cookies) is not there.
 *
 * `requestPrototype` is the Express app's `app.request`; without one (no Express app), only the
 * Host header names the host and no proxy is trusted.
 */
export function asExpressRequest(
  message: Request | IncomingMessage,
  requestPrototype: object | undefined,
): Request {
  if (isExpressRequest(message)) return message;
  const view = Object.create(requestPrototype ?? UNTRUSTING_REQUEST) as Request;
  for (const field of ['headers', 'socket', 'url', 'method', 'httpVersion'] as const) {
    Object.defineProperty(view, field, { value: message[field], enumerable: true });
  }
  // Express 5 reads `socket`; older code and some libraries still read `connection`.
  Object.defineProperty(view, 'connection', { value: message.socket });
  return view;
}

/** An Express request carries its app (set by Express on every request it handles). */
function isExpressRequest(message: Request | IncomingMessage): message is Request {
  return typeof (message as Request).get === 'function' && 'app' in message;
}

/**
 * The getters a resolver may use, for a request no Express app has settings for (and under a
 * platform binding's view, which overrides what its platform decided: lib/fastify).
 */
export const UNTRUSTING_REQUEST = {
  get(this: IncomingMessage, name: string): string | undefined {
    const value = this.headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  },
  header(this: Request, name: string): string | undefined {
    return this.get(name);
  },
  get host(): string | undefined {
    return (this as unknown as IncomingMessage).headers.host || undefined;
  },
  get hostname(): string | undefined {
    const host = (this as unknown as Request).host;
    return host ? hostnameOf(host) : undefined;
  },
  get ip(): string | undefined {
    return (this as unknown as IncomingMessage).socket?.remoteAddress;
  },
};

/** A `host[:port]` value's host name; an IPv6 address keeps its brackets. */
export function hostnameOf(host: string): string {
  const offset = host.startsWith('[') ? host.indexOf(']') + 1 : 0;
  const colon = host.indexOf(':', offset);
  return colon === -1 ? host : host.slice(0, colon);
}
