/**
 * What a request tells the session about its client, read through Express's getters: an Express
 * request, or a platform binding's view of its own (lib/fastify).
 */
import type { Request } from 'express';
import { MAX_USER_AGENT_LENGTH, type LoginClient } from '../session/session-owner.js';
import { unmappedIp } from '../util/ip-address.js';

/** express-session's test for Secure cookies: the socket is TLS, or Express says so (`trust proxy`). */
export function isSecureRequest(req: Request): boolean {
  return (req.socket as { encrypted?: boolean }).encrypted === true || req.secure === true;
}

/**
 * The client a request came from, as Express sees it (`trust proxy` applies to the address), an
 * IPv4 client on a dual-stack socket by its IPv4 address.
 */
export function clientOf(req: Request): LoginClient {
  return {
    ip: unmappedIp(req.ip),
    userAgent: req.get('user-agent')?.slice(0, MAX_USER_AGENT_LENGTH),
  };
}
