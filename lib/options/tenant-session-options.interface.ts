import type { RequestMethod } from '@nestjs/common';
import type { Request, RequestHandler } from 'express';
import type { CookieOptions, SessionData } from 'express-session';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import type { KnownTenantsSource } from '../tenancy/known-tenants.js';
import type { TenantResolution } from '../tenancy/tenant-resolution.interface.js';
import type { LoginFieldsHook } from './login-fields.interface.js';
import type { SessionRevokedEvent } from './session-revoked.event.js';
import type { TenantSessionTelemetryOptions } from './telemetry-option.js';

/** A route given to Nest's `forRoutes` / `exclude`. */
export type TenantSessionRoute = string | { path: string; method: RequestMethod };

/** Settings one tenant may override; anything left out falls back to the module defaults. */
export interface TenantSessionSettings {
  /** Cookie name for this tenant. */
  cookieName?: string;
  /** Cookie domain for this tenant, e.g. `.acme.example.com` to share with its subdomains. */
  cookieDomain?: string;
  /** Idle timeout in seconds: a session unused this long is gone. */
  idleTtl?: number;
  /** Absolute lifetime in seconds: a session ends this long after its login, however active. */
  absoluteLifetime?: number;
  /** Secret(s) signing this tenant's cookies; the first signs, all verify (rotation). */
  secret?: string | string[];
  /**
   * Which Redis deployment holds this tenant's sessions: a name from `deployments`, or
   * `'default'` (the `redis` option, also when left out).
   */
  deployment?: string;
  /**
   * Origins besides the tenant's own whose pages may send this tenant unsafe requests (its
   * admin console on another host, say), added to `csrf.trustedOrigins`, e.g.
   * `['https://console.acme.com']`.
   */
  trustedOrigins?: string[];
  /**
   * This tenant's session key prefix, as written, instead of the module's `keyPrefix`: for a
   * switch-over, the one its plain connect-redis used (`'sess:'`, connect-redis's default), so
   * the sessions already in Redis are found. It must not overlap the module's templates.
   */
  keyPrefix?: string;
  /** This tenant's legacy-session adoption window (see the module option); `false`: none. */
  adoptLegacySessions?: LegacySessionAdoption | false;
}

/**
 * Switching over from plain express-session: sessions it stored with an identity (by default
 * `passport.user`) but no owner are indexed when the module first reads them (or
 * `indexExistingSessions` walks them), so they stay logged in and become revocable. Their login
 * time is unknown, so they are dated before every revocation: refused once their user has been
 * revoked since the window began, never a recent login for `@RequireRecentLogin`.
 */
export interface LegacySessionAdoption {
  /**
   * When the switch-over window ends (at most 90 days ahead): after it, such sessions are
   * refused again, as they are without this option. Until then, each revocation keeps its
   * not-before (a small key per revoked user) until this date.
   */
  until: Date | string;
}

/**
 * The CSRF defence on unsafe requests (anything but GET, HEAD and OPTIONS), checked before the
 * session is loaded. `Sec-Fetch-Site` must be `same-origin`; without it, `Origin` must be the
 * request's own origin or a trusted one; a request with neither header (not from a browser that
 * sends them: API clients, scripts) passes unless token mode is on.
 */
export interface CsrfOptions {
  /**
   * Origins besides the request's own whose pages may send unsafe requests to every tenant,
   * written `scheme://host[:port]` (no path), e.g. `['https://admin.example.com']`.
   */
  trustedOrigins?: string[];
  /**
   * Synchronizer-token mode: every unsafe request must also carry the session's token (see
   * `csrfToken(req)` / `@CsrfToken()`) in a header, `x-csrf-token` unless `headerName` says
   * otherwise. For apps that must also refuse forged requests from browsers sending neither
   * `Sec-Fetch-Site` nor `Origin`. Default off.
   */
  token?: boolean | { headerName?: string };
}

/**
 * Per-tenant settings: a map by tenant id, or a function (it may read a database) called once
 * per tenant when its store is first built. Returning `undefined` means "module defaults".
 */
export type TenantSettingsSource =
  | Record<string, TenantSessionSettings>
  | ((
      tenant: string,
    ) => TenantSessionSettings | undefined | Promise<TenantSessionSettings | undefined>);

/**
 * Who a session belongs to, read from its data when it is saved, for sessions not logged in
 * through `SessionLoginService.login` (whose binding always wins). Return nothing for "nobody".
 */
export type SessionIdentity = (session: Partial<SessionData> & Record<string, unknown>) => unknown;

/**
 * Replicated acknowledgements: a login, a session write or a revocation answers 2xx only once
 * `replicas` replicas confirmed it (Redis `WAIT replicas timeoutMs` after the write), so a
 * failover cannot lose it; fewer in time is a 503.
 */
export interface TenantSessionDurability {
  /** Replicas that must hold a write before it is acknowledged (at least 1). */
  replicas: number;
  /** How long to wait for them, in ms; below `operationTimeoutMs`. */
  timeoutMs: number;
}

/** What "logged in" means for `SessionAuthGuard`. */
export type AuthenticatedCheck =
  string | ((session: Partial<SessionData>, req: Request) => boolean);

export interface TenantSessionModuleOptions {
  /** How a request is mapped to a tenant id. */
  tenant: TenantResolution;
  /**
   * Which tenants exist: a list, or a lookup answering yes or no (cached: yes for 5 minutes, no
   * for 30 s). Anything else the resolver finds is an unknown tenant (4xx) before any store is
   * built. Default: every valid id (fine with `byHost`; with `bySubdomain` or `byHeader`, any
   * label would get a store of its own).
   */
  knownTenants?: KnownTenantsSource;
  /** The `<app>` part of the keys; lets several apps share one Redis. Default `app`. */
  appName?: string;
  /**
   * Redis to use: an ioredis 6 client or cluster you own (never closed by the module), or
   * options / a `redis://` or `rediss://` URL for a client the module creates and closes on
   * shutdown. Anything else is refused at start-up. Leave out to use the embedded in-process
   * store (development and tests only; a warning says so, and production refuses it unless
   * `allowEmbeddedStore`).
   */
  redis?: Redis | Cluster | RedisOptions | string;
  /**
   * More Redis deployments, by name (lower-case letters, digits, `-`), each like `redis`: a
   * client, a Cluster, options (Sentinel included) or a URL. A tenant is placed on one with
   * `tenantSettings[tenant].deployment` (data residency, a heavy tenant on its own); the others
   * stay on `redis`. Every guarantee (index, revocation, events, health) holds per deployment.
   */
  deployments?: Record<string, Redis | Cluster | RedisOptions | string>;
  /**
   * Keep recently read sessions in this process and serve repeated reads without a round trip,
   * exact through Redis server-assisted invalidation (`CLIENT TRACKING`): never a session after
   * Redis said it changed or went, nothing across a dropped connection, bounded in memory. TTL
   * restarts are batched (at most once per 1 % of the TTL). A single Redis, Sentinel, or a Cluster
   * that reads from its masters (tracking on every master).
   * `true`, or `{ maxEntries }` (default 10,000 sessions). Default off.
   */
  nearCache?: boolean | { maxEntries?: number };
  /**
   * What the OpenTelemetry metrics and spans carry (`{ tenantAttribute }`); they are recorded
   * when the app has `@opentelemetry/api` (see docs/observability.md). Default: with the tenant.
   */
  telemetry?: TenantSessionTelemetryOptions;
  /**
   * Acknowledge logins, session writes and revocations only once this many replicas hold them
   * (`WAIT` after each such write, in the same round trip); otherwise answer 503. Reads (and the
   * TTL restarts they do) are not waited for. Needs Redis with replicas (Sentinel, Cluster).
   * Default: off (Redis replication is asynchronous; a failover may lose the last writes).
   */
  durability?: TenantSessionDurability;
  /** Allow the embedded in-process store with `NODE_ENV=production`. Default false. */
  allowEmbeddedStore?: boolean;
  /** Secret(s) signing session cookies. Required; well-known or short secrets are refused. */
  secret: string | string[];
  /** Session key prefix template; `{tenant}` and `{app}` are filled in. Default `sessions:{tenant}:{app}:`. */
  keyPrefix?: string;
  /** Per-user index key prefix template. Default `sessions-index:{tenant}:{app}:`. */
  indexPrefix?: string;
  /** Idle timeout in seconds (Redis TTL and cookie max-age). Default 3600. */
  idleTtl?: number;
  /**
   * Absolute lifetime in seconds: a session ends this long after its login (its id's creation,
   * which a login's regeneration makes), whatever its activity; its Redis TTL never runs past
   * that, so other services see it end too. Per tenant in `tenantSettings`, per login in
   * `login(req, id, { absoluteLifetime })`. Default 86400 (24 h: NIST SP 800-63B-4's longest
   * re-authentication interval at AAL2; OWASP ASVS 5.0 V7.3.2 asks for one).
   */
  absoluteLifetime?: number;
  /**
   * How recent, in seconds, a login (or `SessionLoginService.reauthenticated`) must be for
   * routes marked `@RequireRecentLogin()` without an argument. Default 600 (10 minutes).
   */
  recentLoginMaxAge?: number;
  /**
   * Cookie name. Default `sid`. `__Host-` names (HTTPS only, path `/`, no domain) keep sibling
   * subdomains from setting or overwriting the cookie; `__Secure-` names need a Secure cookie.
   */
  cookieName?: string;
  /** Cookie attributes merged over the secure defaults (httpOnly, sameSite lax, secure auto). */
  cookie?: Omit<CookieOptions, 'maxAge' | 'expires'>;
  /** Re-send the cookie on every response so its expiry slides with the idle TTL. Default true. */
  rolling?: boolean;
  /** Store sessions nobody wrote to (anonymous visitors). Default false. */
  saveUninitialized?: boolean;
  /**
   * CSRF defence for unsafe requests on the routes the module covers (see `CsrfOptions`).
   * Default on, header checks only; `false` turns it off.
   */
  csrf?: false | CsrfOptions;
  /** Per-tenant overrides of cookie name/domain, idle TTL, secret and trusted origins. */
  tenantSettings?: TenantSettingsSource;
  /** Most tenants whose store stays built in memory (ones not used lately are dropped). Default 1000. */
  maxCachedTenants?: number;
  /** Routes that get tenant + session middleware. Default: all routes. */
  forRoutes?: TenantSessionRoute[];
  /** Routes left without tenant + session middleware (health checks, ...). */
  exclude?: TenantSessionRoute[];
  /**
   * Express middleware run, in order, right after the tenant's session is loaded, on the routes
   * the module covers: the place for `passport.session()` and anything else that reads
   * `req.session`. Runs whatever the module's import order and whether it is global; an error
   * (thrown, rejected or passed to `next`) is answered by Nest's exception layer. Default none.
   */
  afterSession?: RequestHandler[];
  /** HTTP status for an unknown or invalid tenant. Default 404. */
  unknownTenantStatus?: number;
  /**
   * Longest total wait on Redis, in ms, before answering 503: for all the session work of one
   * request (load, save, login), and for each service call (revokeAll, list, ...). Default 1000.
   */
  operationTimeoutMs?: number;
  /**
   * Who a session belongs to when it was not logged in through `SessionLoginService.login`; the
   * session is indexed under it on every save, so it can be listed and revoked. Default: the
   * user passport serialized (`session.passport.user`, a string or number).
   */
  identity?: SessionIdentity;
  /**
   * Adds the app's own fields to each login's listing data (`ActiveSession.fields`), e.g. a city
   * from its GeoIP service: called once per login with its tenant, user, address, user agent and
   * parsed device, given `operationTimeoutMs` to answer. Fields out of bounds (see
   * `LoginFields`), a throw, a rejection or no answer in time never fail the login: it goes on
   * without fields, and a warning (no session data in it) is logged. Default none.
   */
  loginFields?: LoginFieldsHook;
  /**
   * Start even though Redis has a `maxmemory-policy` that can evict the per-user indexes (any
   * policy but `noeviction` once `maxmemory` is set). Default false: start-up fails instead.
   */
  allowUnsafeEviction?: boolean;
  /** What "logged in" means for `SessionAuthGuard`: a session field name or a predicate. Default: the session has an identity (see `identity`). */
  authenticated?: AuthenticatedCheck;
  /**
   * Most concurrent sessions one user may hold in a tenant: a login past it revokes the user's
   * oldest logins (reason `cap`, listeners told), however it logged in. Default 100, the limit
   * OWASP ASVS 5.0 7.1.2 asks applications to define: far above the devices and browsers of a
   * real person, yet it bounds what one account can pile up (a script logging in on every call
   * without keeping its cookie, a leaked password in a bot's loop), and so the cost of every
   * per-user operation. A positive integer to raise or lower it, `false` for no cap.
   */
  maxSessionsPerUser?: number | false;
  /**
   * Adopt sessions plain express-session wrote before the switch-over (see
   * `LegacySessionAdoption`), until `until`. Default off: a session with an identity but no
   * owner is refused, since anything that can write Redis could have written it.
   */
  adoptLegacySessions?: LegacySessionAdoption;
  /** Called after every revocation (audit logs). Errors it throws are logged, never surfaced. */
  onRevoked?: (event: SessionRevokedEvent) => void | Promise<void>;
}

/** What `forRootAsync({ useClass })` / `{ useExisting }` expects of its class. */
export interface TenantSessionOptionsFactory {
  createTenantSessionOptions(): TenantSessionModuleOptions | Promise<TenantSessionModuleOptions>;
}
