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
  return new FastifyRequestView(req) as unknown as Request;
}

/**
 * Getters over the Node request, built once per request: one field to set, where copying each
 * field onto the view as its own property (`Object.defineProperty`) cost more than the reads.
 * `get(name)` and `header(name)` come from UNTRUSTING_REQUEST and read the headers.
 */
class FastifyRequestView {
  readonly #req: MiddieRequest;

  constructor(req: MiddieRequest) {
    this.#req = req;
  }

  get headers(): MiddieRequest['headers'] {
    return this.#req.headers;
  }

  get socket(): MiddieRequest['socket'] {
    return this.#req.socket;
  }

  get method(): string | undefined {
    return this.#req.method;
  }

  get httpVersion(): string {
    return this.#req.httpVersion;
  }

  get hostname(): string {
    return this.#req.hostname;
  }

  get ip(): string {
    return this.#req.ip;
  }

  /** The target as the client sent it: middie's `url` is relative to the middleware's path. */
  get url(): string {
    return this.#req.originalUrl;
  }

  get protocol(): 'http' | 'https' {
    return this.#req.protocol;
  }

  get secure(): boolean {
    return this.#req.protocol === 'https';
  }

  /**
   * The host with its port: middie copies Fastify's `hostname` only, which drops the port a
   * same-origin check needs. It is the one Fastify took (the last `X-Forwarded-Host` entry when
   * trusted, else the Host header), found again by that hostname.
   */
  get host(): string | undefined {
    const { hostname, headers } = this.#req;
    if (!hostname) return undefined;
    const forwarded = String(headers['x-forwarded-host'] ?? '').split(',');
    const candidates = [forwarded[forwarded.length - 1], headers.host];
    return candidates.map((c) => c?.trim()).find((c) => c && hostnameOf(c) === hostname);
  }
}
Object.setPrototypeOf(FastifyRequestView.prototype, UNTRUSTING_REQUEST);
