import type { Request } from 'express';

/** Maps a request to a raw tenant id; the module validates whatever it returns. */
export type TenantResolverFn = (
  req: Request,
) => string | undefined | null | Promise<string | undefined | null>;

/**
 * How the module finds a request's tenant:
 * - `{ byHost: { 'acme.example.com': 'acme' } }`: exact host names (case-insensitive, port ignored);
 * - `{ bySubdomain: 'example.com' }`: the label left of the base domain (`acme.example.com` gives `acme`);
 * - `{ byHeader: 'x-tenant-id' }`: a request header set by a gateway you trust;
 * - a function of the request.
 * Host-based strategies read `req.hostname`, so `X-Forwarded-Host` counts only when Express
 * `trust proxy` is set.
 */
export type TenantResolution =
  | { byHost: Record<string, string> }
  | { bySubdomain: string }
  | { byHeader: string }
  | TenantResolverFn;
