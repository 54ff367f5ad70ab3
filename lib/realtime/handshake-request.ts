import type { IncomingHttpHeaders } from 'node:http';

/**
 * A socket's handshake request as an origin check sees it, on Express and on Fastify alike: the
 * Node request's headers, with the getters tenant resolvers read. On Express they are the app's
 * own (its `trust proxy` applies); on Fastify, whose routing never sees a handshake, only the
 * `Host` header names the host and no proxy is trusted. An Express `Request` has all of it, so
 * a check written against Express's type still fits.
 */
export interface HandshakeRequest {
  readonly headers: IncomingHttpHeaders;
  /** The host and port the client addressed, e.g. `acme.example.com:8443`. */
  readonly host: string | undefined;
  /** The host without its port. */
  readonly hostname: string | undefined;
  /** The client's address. */
  readonly ip: string | undefined;
  /** A header's value, by case-insensitive name. */
  get(name: string): string | undefined;
}
