import type { RequestHandler } from 'express';
import type { CookieOptions } from 'express-session';
import { InvalidTenantSessionOptionsError } from '../errors/invalid-options.error.js';
import { normalizeTenantId } from '../tenancy/tenant-id.js';
import { createTenantResolver, restrictToKnownTenants } from '../tenancy/tenant-resolver.js';
import type { TenantResolverFn } from '../tenancy/tenant-resolution.interface.js';
import { checkCookieAttributes } from './cookie-attributes.js';
import { checkCookiePrefix } from './cookie-prefix.js';
import { resolveCsrf, type ResolvedCsrf } from './csrf-options.js';
import { checkDeployments } from './deployments-option.js';
import { checkKeyTemplates, checkTenantKeyPrefixesApart } from './key-templates.js';
import { adoptionWindowEnd } from './legacy-session-adoption.js';
import { checkModuleOptionKeys, checkNestedKeys } from './option-keys.js';
import type { LoginFieldsHook } from './login-fields.interface.js';
import { checkRedisOption, type RedisSource } from './redis-option.js';
import { checkSecrets } from './secret-policy.js';
import { positiveInteger, sessionSeconds } from './option-numbers.js';
import type { SessionRevokedEvent } from './session-revoked.event.js';
import { checkTelemetry, type ResolvedTelemetry } from './telemetry-option.js';
import type {
  AuthenticatedCheck,
  SessionIdentity,
  TenantSessionDurability,
  TenantSessionModuleOptions,
  TenantSessionRoute,
  TenantSettingsSource,
} from './tenant-session-options.interface.js';
import { checkTenantSettings } from './tenant-settings-check.js';

/** Injection token of the checked, defaulted options every part of the module reads. */
export const RESOLVED_OPTIONS = Symbol('TenantSessionResolvedOptions');

export interface ResolvedOptions {
  resolveTenant: TenantResolverFn;
  appName: string;
  redis: RedisSource;
  nearCache?: { maxEntries: number };
  /** Other Redis deployments tenants may be placed on (see `deployments`). */
  deployments: Record<string, RedisSource>;
  durability?: TenantSessionDurability;
  secrets: string[];
  keyPrefix: string;
  indexPrefix: string;
  idleTtlSeconds: number;
  absoluteLifetimeSeconds: number;
  recentLoginMaxAgeSeconds: number;
  cookieName: string;
  cookie: CookieOptions;
  rolling: boolean;
  saveUninitialized: boolean;
  /** Undefined when the CSRF defence is off. */
  csrf?: ResolvedCsrf;
  tenantSettings?: TenantSettingsSource;
  maxCachedTenants: number;
  forRoutes: TenantSessionRoute[];
  exclude: TenantSessionRoute[];
  afterSession: RequestHandler[];
  unknownTenantStatus: number;
  operationTimeoutMs: number;
  identity: SessionIdentity;
  loginFields?: LoginFieldsHook;
  allowUnsafeEviction: boolean;
  authenticated?: AuthenticatedCheck;
  /** false: no cap. */
  maxSessionsPerUser: number | false;
  onRevoked?: (event: SessionRevokedEvent) => void | Promise<void>;
  /** The legacy-session adoption window's end (ms epoch), when there is one. */
  adoptLegacyUntilMs?: number;
  telemetry: ResolvedTelemetry;
}

/** NIST SP 800-63B-4 AAL2: re-authenticate at least every 24 hours, whatever the activity. */
const DEFAULT_ABSOLUTE_LIFETIME_SECONDS = 24 * 3600;
/** Sensitive operations (sign out other devices, admin revocation) ask for a login this recent. */
const DEFAULT_RECENT_LOGIN_MAX_AGE_SECONDS = 10 * 60;
/** Concurrent sessions per user and tenant unless configured (see `maxSessionsPerUser`). */
export const DEFAULT_MAX_SESSIONS_PER_USER = 100;

/** Secure cookie defaults: no script access, no cross-site sends, Secure whenever the request is. */
const DEFAULT_COOKIE: CookieOptions = {
  httpOnly: true,
  sameSite: 'lax',
  secure: 'auto',
  path: '/',
};

export function resolveOptions(options: TenantSessionModuleOptions): ResolvedOptions {
  if (!options || !options.tenant) {
    throw new InvalidTenantSessionOptionsError('tenant: a tenant resolution strategy is required');
  }
  checkModuleOptionKeys(options);
  const appName = options.appName ?? 'app';
  if (normalizeTenantId(appName) !== appName) {
    throw new InvalidTenantSessionOptionsError(
      `appName "${appName}" must be lower-case letters, digits and hyphens (it is part of Redis keys)`,
    );
  }
  const keyPrefix = options.keyPrefix ?? 'sessions:{tenant}:{app}:';
  const indexPrefix = options.indexPrefix ?? 'sessions-index:{tenant}:{app}:';
  checkKeyTemplates(keyPrefix, indexPrefix);
  if (options.identity !== undefined && typeof options.identity !== 'function') {
    throw new InvalidTenantSessionOptionsError('identity must be a function of the session');
  }
  if (options.loginFields !== undefined && typeof options.loginFields !== 'function') {
    throw new InvalidTenantSessionOptionsError(
      'loginFields must be a function of the login, returning its fields (or a promise of them)',
    );
  }
  const cookieName = options.cookieName ?? 'sid';
  const cookie = { ...DEFAULT_COOKIE, ...options.cookie };
  checkCookiePrefix('cookieName', cookieName, cookie);
  checkCookieAttributes('cookieName, cookie', cookieName, cookie);
  const deployments = checkDeployments(options.deployments);
  if (options.tenantSettings && typeof options.tenantSettings === 'object') {
    for (const [tenant, settings] of Object.entries(options.tenantSettings)) {
      checkTenantSettings(tenant, settings, {
        cookieName,
        cookie,
        deployments,
        keyPrefix,
        indexPrefix,
      });
    }
    checkTenantKeyPrefixesApart(
      Object.entries(options.tenantSettings).flatMap(([tenant, settings]) =>
        settings?.keyPrefix === undefined ? [] : [[tenant, settings.keyPrefix] as [string, string]],
      ),
    );
  }
  const redis = checkRedisOption(options.redis, options.allowEmbeddedStore ?? false);
  const operationTimeoutMs = positiveInteger(
    'operationTimeoutMs',
    options.operationTimeoutMs ?? 1000,
  );
  return {
    resolveTenant: restrictToKnownTenants(
      createTenantResolver(options.tenant),
      options.knownTenants,
    ),
    appName,
    redis,
    deployments,
    nearCache: checkNearCache(options.nearCache),
    telemetry: checkTelemetry(withKnownKeys('telemetry', options.telemetry, ['tenantAttribute'])),
    durability: checkDurability(options.durability, redis, operationTimeoutMs),
    secrets: checkSecrets(options.secret, 'secret'),
    keyPrefix,
    indexPrefix,
    idleTtlSeconds: sessionSeconds('idleTtl', options.idleTtl ?? 3600),
    absoluteLifetimeSeconds: sessionSeconds(
      'absoluteLifetime',
      options.absoluteLifetime ?? DEFAULT_ABSOLUTE_LIFETIME_SECONDS,
    ),
    recentLoginMaxAgeSeconds: positiveInteger(
      'recentLoginMaxAge',
      options.recentLoginMaxAge ?? DEFAULT_RECENT_LOGIN_MAX_AGE_SECONDS,
    ),
    cookieName,
    cookie,
    rolling: options.rolling ?? true,
    saveUninitialized: options.saveUninitialized ?? false,
    csrf: resolveCsrf(options.csrf),
    tenantSettings: options.tenantSettings,
    maxCachedTenants: positiveInteger('maxCachedTenants', options.maxCachedTenants ?? 1000),
    forRoutes: options.forRoutes ?? ['*'],
    exclude: options.exclude ?? [],
    afterSession: checkAfterSession(options.afterSession ?? []),
    unknownTenantStatus: clientErrorStatus(options.unknownTenantStatus ?? 404),
    operationTimeoutMs,
    identity: options.identity ?? passportUser,
    loginFields: options.loginFields,
    allowUnsafeEviction: options.allowUnsafeEviction ?? false,
    authenticated: options.authenticated,
    maxSessionsPerUser:
      options.maxSessionsPerUser === false
        ? false
        : positiveInteger(
            'maxSessionsPerUser',
            options.maxSessionsPerUser ?? DEFAULT_MAX_SESSIONS_PER_USER,
          ),
    onRevoked: options.onRevoked,
    adoptLegacyUntilMs: adoptionWindowEnd('adoptLegacySessions', options.adoptLegacySessions),
  };
}

/** The default identity: the user passport serialized into the session, when it is an id. */
function passportUser(session: Record<string, unknown>): unknown {
  const passport = session.passport as { user?: unknown } | undefined;
  return passport?.user;
}

const DEFAULT_NEAR_CACHE_ENTRIES = 10_000;

function checkNearCache(
  nearCache: TenantSessionModuleOptions['nearCache'],
): ResolvedOptions['nearCache'] {
  if (nearCache === undefined || nearCache === false) return undefined;
  if (nearCache !== true && (typeof nearCache !== 'object' || nearCache === null)) {
    throw new InvalidTenantSessionOptionsError('nearCache must be true, false or { maxEntries }');
  }
  if (nearCache !== true) checkNestedKeys('nearCache', nearCache, ['maxEntries']);
  const maxEntries = nearCache === true ? undefined : nearCache.maxEntries;
  return {
    maxEntries: positiveInteger('nearCache.maxEntries', maxEntries ?? DEFAULT_NEAR_CACHE_ENTRIES),
  };
}

/**
 * `durability` needs a Redis to wait on, and a WAIT shorter than a request's whole budget:
 * otherwise a missing replica would show as a timeout, and WAIT 0 would block forever.
 */
function checkDurability(
  durability: TenantSessionDurability | undefined,
  redis: RedisSource,
  operationTimeoutMs: number,
): TenantSessionDurability | undefined {
  if (durability === undefined) return undefined;
  if (typeof durability !== 'object' || durability === null) {
    throw new InvalidTenantSessionOptionsError(
      'durability must be { replicas, timeoutMs }, e.g. { replicas: 1, timeoutMs: 200 }',
    );
  }
  checkNestedKeys('durability', durability, ['replicas', 'timeoutMs']);
  if (redis.kind === 'embedded') {
    throw new InvalidTenantSessionOptionsError(
      'durability needs Redis with replicas: pass `redis` (Sentinel or Cluster), or leave durability out',
    );
  }
  const replicas = positiveInteger('durability.replicas', durability.replicas);
  const timeoutMs = positiveInteger('durability.timeoutMs', durability.timeoutMs);
  if (timeoutMs >= operationTimeoutMs) {
    throw new InvalidTenantSessionOptionsError(
      `durability.timeoutMs (${timeoutMs}) must be below operationTimeoutMs (${operationTimeoutMs}): ` +
        "the wait for replicas is part of the request's time on Redis",
    );
  }
  return { replicas, timeoutMs };
}

function checkAfterSession(handlers: unknown): RequestHandler[] {
  if (!Array.isArray(handlers) || !handlers.every((h) => typeof h === 'function')) {
    throw new InvalidTenantSessionOptionsError(
      'afterSession must be an array of Express middleware functions, e.g. [passport.session()]',
    );
  }
  return handlers as RequestHandler[];
}

function clientErrorStatus(status: number): number {
  if (!Number.isInteger(status) || status < 400 || status > 499) {
    throw new InvalidTenantSessionOptionsError(`unknownTenantStatus must be a 4xx status`);
  }
  return status;
}

/** A nested options object whose keys are checked (a value of another type is left to its check). */
function withKnownKeys<T>(where: string, value: T, known: readonly string[]): T {
  if (typeof value === 'object' && value !== null) checkNestedKeys(where, value, known);
  return value;
}
