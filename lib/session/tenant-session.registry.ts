import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import {
  checkTenantSettings,
  RESOLVED_OPTIONS,
  type ResolvedOptions,
} from '../options/resolved-options.js';
import type { TenantSessionSettings } from '../options/tenant-session-options.interface.js';
import { TenantKeys } from '../store/keys.js';
import type { SessionBackend } from '../store/session-backend.interface.js';
import { SessionBackends } from '../store/session-backends.js';
import type { OperationBudget } from '../store/operation-budget.js';
import { DEFAULT_DEPLOYMENT } from '../options/deployments-option.js';
import { assertTenantId } from '../tenancy/tenant-id.js';
import { UserSessionIndex } from '../user-index/user-session-index.js';
import { LruCache } from '../tenancy/lru-cache.js';
import { sessionIdFromCookies } from './duplicate-session-cookies.js';
import { OwnerSeal } from './owner-seal.js';
import { unsignedSessionId } from './session-cookie.js';
import { generateSessionId } from './session-id.js';
import { SessionMiddleware } from './session-middleware.js';
import { TenantSessionStore } from './tenant-session.store.js';

/** Everything built for one tenant: its store and index, its session middleware and cookie. */
export interface TenantSession {
  tenant: string;
  /** The Redis deployment holding this tenant's sessions (see `deployments`). */
  deployment: string;
  /** That deployment's backend. */
  backend: SessionBackend;
  store: TenantSessionStore;
  index: UserSessionIndex;
  sessionMiddleware: SessionMiddleware;
  cookieName: string;
  cookieDomain?: string;
  /**
   * The session id a request with this Cookie header runs with in this tenant, for requests
   * outside the session middleware (sockets): its signature checked with the tenant's secrets,
   * and of several cookies of the name the one an HTTP request would keep (see
   * duplicate-session-cookies.ts), which reads the store when two or more verify. On `budget`,
   * else one of its own.
   */
  sessionIdFromCookie(
    cookieHeader: string | undefined,
    budget?: OperationBudget,
  ): Promise<string | undefined>;
  /** The session id in one value of the session cookie, when its signature verifies. */
  verifiedSessionId(cookieValue: string): string | undefined;
  /** Origins besides the request's own that may send unsafe requests (module's and tenant's). */
  trustedOrigins: ReadonlySet<string>;
}

/**
 * Builds each tenant's store and session middleware on first use and keeps the most recently
 * used ones (bounded LRU), so tenants can be added at runtime and memory stays flat however many
 * there are. Each tenant's store works on its deployment's backend (one Redis connection per
 * deployment, shared by its tenants).
 * Inject it to work on a tenant's sessions outside a request.
 */
@Injectable()
export class TenantSessionRegistry {
  /** A tenant's machinery, or its build while it runs. */
  private readonly cache: LruCache<string, TenantSession | Promise<TenantSession>>;
  private loginHook?: (
    tenant: string,
    userId: string,
    userSessions: number,
    req?: Request,
  ) => Promise<unknown>;
  private logoutHook?: (tenant: string, userId: string, sid: string) => void;

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
    private readonly backends: SessionBackends,
  ) {
    this.cache = new LruCache(options.maxCachedTenants);
  }

  /**
   * The tenant's session machinery; the id is validated whoever calls. Only valid ids are ever
   * cached, so a hit (every request but a tenant's first) needs no second check.
   */
  async get(tenantId: string): Promise<TenantSession> {
    return this.lookup(tenantId);
  }

  /** `get` without a promise once the tenant is built: the middleware's path, every request. */
  lookup(tenantId: string): TenantSession | Promise<TenantSession> {
    const cached = this.cache.get(tenantId);
    if (cached) return cached;
    const tenant = assertTenantId(tenantId);
    const found = this.cache.get(tenant);
    if (found) return found;
    const built = this.build(tenant);
    this.cache.set(tenant, built);
    built.then(
      (tenantSession) => {
        if (this.cache.peek(tenant) === built) this.cache.set(tenant, tenantSession);
      },
      // A failed build (say, settings read from a database that is down) is retried next time.
      () => {
        if (this.cache.peek(tenant) === built) this.cache.delete(tenant);
      },
    );
    return built;
  }

  /** The tenant's connect-redis compatible store. */
  async store(tenantId: string): Promise<TenantSessionStore> {
    return (await this.get(tenantId)).store;
  }

  /** Drops a tenant's cached machinery (after off-boarding or a settings change). */
  forget(tenantId: string): void {
    this.cache.delete(assertTenantId(tenantId));
  }

  /**
   * Runs `hook` after every login is stored, whatever logged it in (the session cap), with the
   * user's indexed session count its admission read (an upper bound of their live sessions).
   */
  afterLogin(
    hook: (tenant: string, userId: string, userSessions: number, req?: Request) => Promise<unknown>,
  ): void {
    this.loginHook = hook;
  }

  /**
   * Calls `hook` (not awaited) whenever a session stops belonging to a user, however that
   * happened (a logout, passport's, the app's own): the live sign-out of sockets.
   */
  afterLogout(hook: (tenant: string, userId: string, sid: string) => void): void {
    this.logoutHook = hook;
  }

  /** How many tenants are built and cached right now. */
  get cachedTenants(): number {
    return this.cache.size;
  }

  private async build(tenant: string): Promise<TenantSession> {
    const o = this.options;
    const settings = await this.settingsFor(tenant);
    const idleTtlSeconds = settings.idleTtl ?? o.idleTtlSeconds;
    const lifetimeMs = (settings.absoluteLifetime ?? o.absoluteLifetimeSeconds) * 1000;
    const cookieName = settings.cookieName ?? o.cookieName;
    const cookieDomain = settings.cookieDomain ?? o.cookie.domain;
    const secrets =
      settings.secret === undefined ? o.secrets : ([] as string[]).concat(settings.secret);
    const deployment = settings.deployment ?? DEFAULT_DEPLOYMENT;
    const backend = this.backends.get(deployment);
    const keys = new TenantKeys(o, tenant, o.appName);
    const index = new UserSessionIndex(backend, keys);
    const store = new TenantSessionStore(backend, {
      keys,
      index,
      seal: new OwnerSeal(secrets, keys.sessionPrefix),
      identity: o.identity,
      idleTtlMs: idleTtlSeconds * 1000,
      operationTimeoutMs: o.operationTimeoutMs,
      afterLogin: async (userId, userSessions, req) =>
        void (await this.loginHook?.(tenant, userId, userSessions, req)),
      afterLogout: (userId, sid) => this.logoutHook?.(tenant, userId, sid),
    });
    const sessionMiddleware = new SessionMiddleware(store, {
      cookieName,
      secrets,
      cookie: { ...o.cookie, domain: cookieDomain, maxAge: idleTtlSeconds * 1000 },
      rolling: o.rolling,
      saveUninitialized: o.saveUninitialized,
      generateId: (req) => generateSessionId(req, backend.now(), lifetimeMs),
    });
    const verifiedSessionId = (value: string) => unsignedSessionId(value, secrets);
    const jar = { cookieName, verifiedSessionId, store };
    return {
      tenant,
      deployment,
      backend,
      store,
      index,
      sessionMiddleware,
      cookieName,
      cookieDomain,
      sessionIdFromCookie: (header, budget = store.budget()) =>
        sessionIdFromCookies(header, jar, budget),
      verifiedSessionId,
      trustedOrigins: new Set([
        ...(o.csrf?.trustedOrigins ?? []),
        ...(settings.trustedOrigins ?? []),
      ]),
    };
  }

  private async settingsFor(tenant: string): Promise<TenantSessionSettings> {
    const source = this.options.tenantSettings;
    const settings = typeof source === 'function' ? await source(tenant) : source?.[tenant];
    checkTenantSettings(tenant, settings, this.options);
    return settings ?? {};
  }
}
