import { Inject, Injectable } from '@nestjs/common';
import { DEFAULT_DEPLOYMENT } from '../options/deployments-option.js';
import { adoptionWindowEnd } from '../options/legacy-session-adoption.js';
import { RESOLVED_OPTIONS, type ResolvedOptions } from '../options/resolved-options.js';
import type { TenantSessionSettings } from '../options/tenant-session-options.interface.js';
import { checkTenantSettings } from '../options/tenant-settings-check.js';
import { Deployments } from '../store/deployments.js';
import { assertTenantId } from '../tenancy/tenant-id.js';
import { LruCache } from '../util/lru-cache.js';
import { SessionLifecycle } from './session-lifecycle.js';
import type { TenantSessionStore } from './tenant-session-store.interface.js';
import { buildTenantSessions, type TenantSessions } from './tenant-sessions.js';

/**
 * Builds each tenant's session machinery on first use and keeps the most recently used ones
 * (bounded LRU), so tenants can be added at runtime and memory stays flat however many there
 * are. Each tenant's sessions live on its deployment's backend (one Redis connection per
 * deployment, shared by its tenants). Inject it for a tenant's express-session store.
 */
@Injectable()
export class TenantSessionRegistry {
  /** A tenant's machinery, or its build while it runs. */
  private readonly cache: LruCache<string, TenantSessions | Promise<TenantSessions>>;

  /** @internal Nest's dependency injection makes it; apps inject it. */
  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
    private readonly deployments: Deployments,
    private readonly lifecycle: SessionLifecycle,
  ) {
    this.cache = new LruCache(options.maxCachedTenants);
  }

  /** The tenant's connect-redis compatible store. */
  async store(tenantId: string): Promise<TenantSessionStore> {
    return (await this.get(tenantId)).store;
  }

  /**
   * The tenant's session machinery; the id is validated whoever calls.
   * @internal
   */
  async get(tenantId: string): Promise<TenantSessions> {
    return this.lookup(tenantId);
  }

  /**
   * The tenant's machinery when it is built already: the middleware's path, every request, with
   * no promise to wait for. Only valid ids are ever cached, so no check is needed.
   * @internal
   */
  built(tenantId: string): TenantSessions | undefined {
    const cached = this.cache.get(tenantId);
    return cached instanceof Promise ? undefined : cached;
  }

  private lookup(tenantId: string): Promise<TenantSessions> {
    const cached = this.cache.get(tenantId);
    if (cached) return Promise.resolve(cached);
    const tenant = assertTenantId(tenantId);
    const found = this.cache.get(tenant);
    if (found) return Promise.resolve(found);
    const built = this.build(tenant);
    this.cache.set(tenant, built);
    built.then(
      (sessions) => {
        if (this.cache.peek(tenant) === built) this.cache.set(tenant, sessions);
      },
      // A failed build (say, settings read from a database that is down) is retried next time.
      () => {
        if (this.cache.peek(tenant) === built) this.cache.delete(tenant);
      },
    );
    return built;
  }

  /** Drops a tenant's cached machinery (after off-boarding or a settings change). */
  forget(tenantId: string): void {
    this.cache.delete(assertTenantId(tenantId));
  }

  /** How many tenants are built and cached right now. */
  get cachedTenants(): number {
    return this.cache.size;
  }

  private async build(tenant: string): Promise<TenantSessions> {
    const o = this.options;
    const settings = await this.settingsFor(tenant);
    const idleTtlSeconds = settings.idleTtl ?? o.idleTtlSeconds;
    const deployment = settings.deployment ?? DEFAULT_DEPLOYMENT;
    return buildTenantSessions({
      tenant,
      appName: o.appName,
      deployment,
      backend: this.deployments.get(deployment),
      keyTemplates: { keyPrefix: settings.keyPrefix ?? o.keyPrefix, indexPrefix: o.indexPrefix },
      secrets: settings.secret === undefined ? o.secrets : ([] as string[]).concat(settings.secret),
      identity: o.identity,
      loginFields: o.loginFields,
      idleTtlMs: idleTtlSeconds * 1000,
      lifetimeMs: (settings.absoluteLifetime ?? o.absoluteLifetimeSeconds) * 1000,
      operationTimeoutMs: o.operationTimeoutMs,
      cookieName: settings.cookieName ?? o.cookieName,
      cookie: {
        ...o.cookie,
        domain: settings.cookieDomain ?? o.cookie.domain,
        maxAge: idleTtlSeconds * 1000,
      },
      rolling: o.rolling,
      saveUninitialized: o.saveUninitialized,
      trustedOrigins: new Set([
        ...(o.csrf?.trustedOrigins ?? []),
        ...(settings.trustedOrigins ?? []),
      ]),
      lifecycle: this.lifecycle,
      adoptLegacyUntilMs:
        settings.adoptLegacySessions === undefined
          ? o.adoptLegacyUntilMs
          : adoptionWindowEnd('adoptLegacySessions', settings.adoptLegacySessions),
    });
  }

  private async settingsFor(tenant: string): Promise<TenantSessionSettings> {
    const source = this.options.tenantSettings;
    const settings = typeof source === 'function' ? await source(tenant) : source?.[tenant];
    checkTenantSettings(tenant, settings, this.options);
    return settings ?? {};
  }
}
