import type { Request } from 'express';
import type { IncomingMessage } from 'node:http';
import type { SessionRequest } from '../session/session-request.js';
import { hostnameOf, UNTRUSTING_REQUEST } from '../tenancy/incoming-request.js';

/**
 * A Node request as Nest middleware sees it in a Fastify app: @fastify/middie copies Fastify's
 * reading of the request onto it (`hostname`, `ip`, `protocol`, with the instance's `trustProxy`
 * applied) and keeps the target as the client sent it in `originalUrl`.
 */
export interface MiddieRequest extends IncomingMessage, SessionRequest {
  originalUrl: string;
  hostname: string;
  ip: string;
  protocol: 'http' | 'https';
}

/**
 * A Fastify request with the Express getters tenant resolvers and the CSRF checks read
 * (`hostname`, `host`, `protocol`, `secure`, `ip`, `get(name)`), from what Fastify decided: a
 * resolver sees on Fastify what it sees on Express, `X-Forwarded-Host` counting exactly when the
 * instance's `trustProxy` trusts the sender.
 */
export function fastifyRequestView(req: MiddieRequest): Request {
  const view = Object.create(VIEW) as Request;
  for (const field of ['headers', 'socket', 'method', 'httpVersion', 'hostname', 'ip'] as const) {
    Object.defineProperty(view, field, { value: req[field], enumerable: true });
  }
  Object.defineProperty(view, 'url', { value: req.originalUrl, enumerable: true });
  Object.defineProperty(view, 'protocol', { value: req.protocol, enumerable: true });
  return view;
}

/** `get(name)` and `header(name)` read the headers; the rest is what Fastify decided. */
const VIEW = Object.create(
  UNTRUSTING_REQUEST,
  Object.getOwnPropertyDescriptors({
    get secure(): boolean {
      return (this as unknown as Request).protocol === 'https';
    },
    /**
     * The host with its port: middie copies Fastify's `hostname` only, which drops the port a
     * same-origin check needs. It is the one Fastify took (the last `X-Forwarded-Host` entry when
     * trusted, else the Host header), found again by that hostname.
     */
    get host(): string | undefined {
      const { hostname, headers } = this as unknown as Request;
      if (!hostname) return undefined;
      const forwarded = String(headers['x-forwarded-host'] ?? '').split(',');
      const candidates = [forwarded[forwarded.length - 1], headers.host];
      return candidates.map((c) => c?.trim()).find((c) => c && hostnameOf(c) === hostname);
    },
  }),
) as object;
