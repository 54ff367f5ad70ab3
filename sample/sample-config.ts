import { randomBytes } from 'node:crypto';

/**
 * The sample's settings, read from environment variables. Shared by the Nest app and the plain
 * Express reader, so both agree on the secret, the cookie name and the Redis key layout.
 * No Nest imports here: the reader must stay a plain Express app.
 */
export interface SampleConfig {
  port: number;
  /** The Nest HTTP platform the app runs on; the reader is Express whatever this says. */
  httpPlatform: HttpPlatform;
  /** `undefined`: the embedded in-process store (the module warns at start-up). */
  redisUrl?: string;
  sessionSecret: string;
  /** The `<app>` part of the Redis keys. */
  appName: string;
  /** Host name → tenant id. */
  tenantHosts: Record<string, string>;
  idleTtlSeconds: number;
  /** A session ends this long after its login, however active. */
  absoluteLifetimeSeconds: number;
  /** How recent a login must be for "sign out other devices", revoking a session, admin revocation. */
  recentLoginMaxAgeSeconds: number;
  /**
   * Express's `trust proxy` (Fastify's `trustProxy`): which proxies' `X-Forwarded-For`/`-Proto`
   * to believe (client address, HTTPS for Secure cookies). `false`: none, the socket's peer is
   * the client. A number (hops) on Express only.
   */
  trustProxy: boolean | number | string;
  /** Password checks per minute and tenant, username and client address (login, step-up). */
  loginAttemptsPerMinute: number;
  /**
   * How long a request's session work may wait on Redis in all (`operationTimeoutMs`), and the
   * password-attempt count on its own, before the request answers 503.
   */
  redisTimeoutMs: number;
  /** What the operator should know about the defaults that were filled in. */
  warnings: string[];
}

/** The values `HTTP_PLATFORM` takes; the first is the default. */
export const HTTP_PLATFORMS = ['express', 'fastify'] as const;
export type HttpPlatform = (typeof HTTP_PLATFORMS)[number];

/** Injection token of the SampleConfig in the Nest app. */
export const SampleConfig = Symbol('SampleConfig');

/** An env-like object: `process.env`, or a plain object in tests. */
export type SampleEnv = Record<string, string | undefined>;

/** Both services name the cookie and render the key prefix the same way. */
export const COOKIE_NAME = 'sid';
export const KEY_PREFIX_TEMPLATE = 'sessions:{tenant}:{app}:';

export function sessionKeyPrefix(tenant: string, appName: string): string {
  return KEY_PREFIX_TEMPLATE.replace('{tenant}', tenant).replace('{app}', appName);
}

export function loadSampleConfig(env: SampleEnv): SampleConfig {
  const warnings: string[] = [];
  const platform = httpPlatform(env.HTTP_PLATFORM);
  return {
    port: integer(env, 'PORT', 3000, 0, 65535),
    httpPlatform: platform,
    redisUrl: env.REDIS_URL || undefined,
    sessionSecret: sessionSecret(env, warnings),
    appName: env.APP_NAME || 'sample',
    tenantHosts: tenantHosts(env.TENANT_HOSTS || 'acme.localhost=acme,globex.localhost=globex'),
    idleTtlSeconds: integer(env, 'SESSION_IDLE_TTL', 3600, 1, 365 * 24 * 3600),
    absoluteLifetimeSeconds: integer(env, 'SESSION_ABSOLUTE_LIFETIME', 86400, 1, 365 * 24 * 3600),
    recentLoginMaxAgeSeconds: integer(env, 'RECENT_LOGIN_MAX_AGE', 600, 1, 365 * 24 * 3600),
    trustProxy: trustProxy(env.TRUST_PROXY, platform),
    loginAttemptsPerMinute: integer(env, 'LOGIN_ATTEMPTS_PER_MINUTE', 10, 1, 10_000),
    redisTimeoutMs: integer(env, 'REDIS_TIMEOUT_MS', 1000, 1, 60_000),
    warnings,
  };
}

function sessionSecret(env: SampleEnv, warnings: string[]): string {
  if (env.SESSION_SECRET) return env.SESSION_SECRET;
  if (env.NODE_ENV === 'production') {
    throw new Error('SESSION_SECRET must be set in production');
  }
  // A fresh secret per start: fine to try the sample, but every restart signs users out and no
  // other service (the reader) can verify the cookies.
  warnings.push(
    'SESSION_SECRET is not set: using a random one. Sessions end when the process restarts ' +
      'and no other service can read them. Set SESSION_SECRET to share sessions.',
  );
  return randomBytes(32).toString('base64url');
}

/** Unset or empty: Express. Anything but a listed value is refused, naming them. */
function httpPlatform(raw: string | undefined): HttpPlatform {
  if (raw === undefined || raw === '') return HTTP_PLATFORMS[0];
  const platform = HTTP_PLATFORMS.find((name) => name === raw);
  if (!platform) {
    throw new Error(`HTTP_PLATFORM must be one of ${HTTP_PLATFORMS.join(', ')}, got "${raw}"`);
  }
  return platform;
}

/**
 * `TRUST_PROXY` as Express takes it: `true`/`false`, a number of hops, or addresses and subnets
 * (`loopback`, `10.0.0.0/8`, comma separated). Unset: `false`, so a client cannot claim HTTPS or
 * another address with a header. Fastify takes the same values but a hop count, which it would
 * ignore (it cannot tell the proxy from a client reaching the app directly): refused there.
 */
function trustProxy(raw: string | undefined, platform: HttpPlatform): boolean | number | string {
  const value = raw?.trim() ?? '';
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  if (!/^\d+$/.test(value)) return value;
  if (platform === 'fastify') {
    throw new Error(
      `TRUST_PROXY: Fastify trusts no hop count ("${value}"); name the proxies' addresses or ` +
        'subnets instead (loopback, 10.0.0.0/8, comma separated)',
    );
  }
  return Number(value);
}

/** `acme.localhost=acme,globex.localhost=globex` → `{ 'acme.localhost': 'acme', ... }`. */
function tenantHosts(spec: string): Record<string, string> {
  const hosts: Record<string, string> = {};
  for (const pair of spec.split(',').map((p) => p.trim())) {
    if (pair === '') continue;
    const [host, tenant, ...rest] = pair.split('=').map((p) => p.trim());
    if (!host || !tenant || rest.length > 0) {
      throw new Error(
        `TENANT_HOSTS: expected host=tenant pairs separated by commas, got "${pair}"`,
      );
    }
    // Tenant ids are lower case in Redis keys (the module normalises them); match it here.
    hosts[host.toLowerCase()] = tenant.toLowerCase();
  }
  if (Object.keys(hosts).length === 0) throw new Error('TENANT_HOSTS names no tenant');
  return hosts;
}

function integer(env: SampleEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}
