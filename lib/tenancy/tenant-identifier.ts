import type { Request } from 'express';
import type { IncomingMessage } from 'node:http';
import { UnknownTenantException } from '../errors/unknown-tenant.exception.js';
import { asExpressRequest } from './incoming-request.js';
import { normalizeTenantId } from './tenant-id.js';
import type { TenantResolverFn } from './tenant-resolution.interface.js';

/**
 * Finds a request's tenant with the configured strategy and validates the id before anything
 * can reach Redis; an unknown or invalid tenant is an UnknownTenantException (4xx JSON).
 * Inject it to resolve tenants outside the module's middleware: a plain Node request (a
 * WebSocket handshake, an upgrade) is resolved exactly as Express would see it (see
 * incoming-request.ts).
 */
export class TenantIdentifier {
  /** @internal Nest's dependency injection makes it; apps inject it. */
  constructor(
    private readonly resolve: TenantResolverFn,
    private readonly unknownTenantStatus: number,
    /** The Express app's `app.request`, once there is one (see asExpressRequest). */
    private readonly requestPrototype: () => object | undefined = () => undefined,
  ) {}

  async identify(req: Request | IncomingMessage): Promise<string> {
    return this.identifyView(this.asRequest(req));
  }

  /**
   * @internal A request a platform binding already gave Express's getters (lib/fastify's view
   * of a Fastify request), resolved as it is.
   */
  async identifyView(view: Request): Promise<string> {
    const tenant = normalizeTenantId(await this.resolve(view));
    if (tenant === undefined) throw new UnknownTenantException(this.unknownTenantStatus);
    return tenant;
  }

  /** The request as resolvers see it: itself for an Express request, else an Express view of it. */
  asRequest(req: Request | IncomingMessage): Request {
    return asExpressRequest(req, this.requestPrototype());
  }
}
