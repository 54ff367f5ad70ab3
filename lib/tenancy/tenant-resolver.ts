import { InvalidTenantSessionOptionsError } from '../errors/invalid-options.error.js';
import { KnownTenants, type KnownTenantsSource } from './known-tenants.js';
import { asciiLowerCase, normalizeTenantId } from './tenant-id.js';
import type { TenantResolution, TenantResolverFn } from './tenant-resolution.interface.js';

/** Turns the `tenant` option into one function, checking static configuration up front. */
export function createTenantResolver(resolution: TenantResolution): TenantResolverFn {
  if (typeof resolution === 'function') return resolution;
  if ('byHost' in resolution) return byHost(resolution.byHost);
  if ('bySubdomain' in resolution) return bySubdomain(resolution.bySubdomain);
  if ('byHeader' in resolution) return byHeader(resolution.byHeader);
  throw new InvalidTenantSessionOptionsError(
    'tenant must be { byHost }, { bySubdomain }, { byHeader } or a function',
  );
}

/**
 * Lets through only tenants that exist: an id the resolver found but `known` denies is no
 * tenant (the configured 4xx), before any store is built for it.
 */
export function restrictToKnownTenants(
  resolve: TenantResolverFn,
  known: KnownTenantsSource | undefined,
): TenantResolverFn {
  if (known === undefined) return resolve;
  if (!Array.isArray(known) && typeof known !== 'function') {
    throw new InvalidTenantSessionOptionsError(
      'knownTenants must be a list of tenant ids or a function (tenant) => boolean | Promise<boolean>',
    );
  }
  const tenants = new KnownTenants(Array.isArray(known) ? known.map(checkKnownId) : known);
  return async (req) => {
    const tenant = normalizeTenantId(await resolve(req));
    return tenant !== undefined && (await tenants.has(tenant)) ? tenant : undefined;
  };
}

function checkKnownId(id: string): string {
  const tenant = normalizeTenantId(id);
  if (tenant === undefined) {
    throw new InvalidTenantSessionOptionsError(`knownTenants lists an invalid tenant id "${id}"`);
  }
  return tenant;
}

function byHost(hosts: Record<string, string>): TenantResolverFn {
  const table = new Map<string, string>();
  for (const [host, tenant] of Object.entries(hosts)) {
    const id = normalizeTenantId(tenant);
    if (id === undefined) {
      throw new InvalidTenantSessionOptionsError(
        `tenant.byHost maps "${host}" to an invalid tenant id "${tenant}"`,
      );
    }
    table.set(stripPort(asciiLowerCase(host)), id);
  }
  return (req) => table.get(asciiLowerCase(req.hostname ?? ''));
}

function bySubdomain(baseDomain: string): TenantResolverFn {
  const suffix = `.${asciiLowerCase(baseDomain).replace(/^\./, '')}`;
  if (suffix.length < 2) {
    throw new InvalidTenantSessionOptionsError('tenant.bySubdomain needs a base domain');
  }
  return (req) => {
    const host = asciiLowerCase(req.hostname ?? '');
    return host.endsWith(suffix) ? host.slice(0, -suffix.length) : undefined;
  };
}

function byHeader(name: string): TenantResolverFn {
  if (!name) throw new InvalidTenantSessionOptionsError('tenant.byHeader needs a header name');
  return (req) => req.get(name);
}

function stripPort(host: string): string {
  return host.replace(/:\d+$/, '');
}
