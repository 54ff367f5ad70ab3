import { closest, distance } from 'fastest-levenshtein';
import { InvalidTenantSessionOptionsError } from '../errors/invalid-options.error.js';
import {
  COOKIE_ATTRIBUTES,
  COOKIE_EQUIVALENTS,
  COOKIE_FUNCTION_EQUIVALENT,
  EXPRESS_SESSION_EQUIVALENTS,
} from './express-session-options.js';
import type {
  TenantSessionModuleOptions,
  TenantSessionSettings,
} from './tenant-session-options.interface.js';

/**
 * Typo protection at run time: the types refuse an unknown key only in an object literal, not in
 * options held in a variable, built from configuration or returned by a `forRootAsync` factory.
 * Every key of the module's options, of a tenant's settings and of `cookie` must be one the
 * module reads; an express-session option gets its equivalent named, anything else the nearest
 * valid key when it is likely a typo.
 */

/** Every key of TenantSessionModuleOptions (the compiler holds the list to the interface). */
const MODULE_OPTION_KEYS = Object.keys({
  tenant: true,
  knownTenants: true,
  appName: true,
  redis: true,
  deployments: true,
  nearCache: true,
  durability: true,
  allowEmbeddedStore: true,
  secret: true,
  keyPrefix: true,
  indexPrefix: true,
  idleTtl: true,
  absoluteLifetime: true,
  recentLoginMaxAge: true,
  cookieName: true,
  cookie: true,
  rolling: true,
  saveUninitialized: true,
  csrf: true,
  tenantSettings: true,
  maxCachedTenants: true,
  forRoutes: true,
  exclude: true,
  afterSession: true,
  unknownTenantStatus: true,
  operationTimeoutMs: true,
  identity: true,
  allowUnsafeEviction: true,
  authenticated: true,
  maxSessionsPerUser: true,
  onRevoked: true,
  loginFields: true,
  adoptLegacySessions: true,
  telemetry: true,
} satisfies Record<keyof TenantSessionModuleOptions, true>);

/** Every key of TenantSessionSettings. */
const TENANT_SETTINGS_KEYS = Object.keys({
  cookieName: true,
  cookieDomain: true,
  idleTtl: true,
  absoluteLifetime: true,
  secret: true,
  deployment: true,
  trustedOrigins: true,
  keyPrefix: true,
  adoptLegacySessions: true,
} satisfies Record<keyof TenantSessionSettings, true>);

/** express-session options, and a tenant's own equivalents of them. */
const TENANT_EQUIVALENTS: Readonly<Record<string, string>> = {
  ...EXPRESS_SESSION_EQUIVALENTS,
  name: 'the cookie name is `cookieName`',
  cookie: 'a tenant sets `cookieName` and `cookieDomain`; other attributes are module-wide',
  domain: 'the cookie domain is `cookieDomain`',
  store: 'a tenant is placed on a Redis deployment with `deployment` (a name from `deployments`)',
  maxAge: COOKIE_EQUIVALENTS.maxAge!,
};

/** The module's options: unknown keys, express-session options and `cookie`'s keys. */
export function checkModuleOptionKeys(options: object): void {
  const problems = keyProblems('', options, MODULE_OPTION_KEYS, EXPRESS_SESSION_EQUIVALENTS);
  const { cookie } = options as { cookie?: unknown };
  if (typeof cookie === 'function') problems.push(COOKIE_FUNCTION_EQUIVALENT);
  else if (typeof cookie === 'object' && cookie !== null) {
    problems.push(...keyProblems('cookie.', cookie, COOKIE_ATTRIBUTES, COOKIE_EQUIVALENTS));
  }
  refuse('TenantSessionModule options', problems);
}

/** One tenant's settings (`where` names them, e.g. `tenantSettings[acme]`). */
export function checkTenantSettingsKeys(where: string, settings: object): void {
  refuse(where, keyProblems('', settings, TENANT_SETTINGS_KEYS, TENANT_EQUIVALENTS));
}

/** The keys of a nested options object (`csrf`, `durability`, ...), named `where`. */
export function checkNestedKeys(where: string, value: object, known: readonly string[]): void {
  refuse(where, keyProblems(`${where}.`, value, known, {}));
}

function keyProblems(
  path: string,
  value: object,
  known: readonly string[],
  equivalents: Readonly<Record<string, string>>,
): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const equivalent = Object.hasOwn(equivalents, key) ? equivalents[key] : undefined;
    if (equivalent) {
      problems.push(`\`${path}${key}\` (an express-session option): ${equivalent}`);
      continue;
    }
    const typo = likelyMeant(key, known);
    problems.push(
      `\`${path}${key}\` is not an option` +
        (typo ? ` (did you mean \`${path}${typo}\`?)` : `; valid: ${known.join(', ')}`),
    );
  }
  return problems;
}

/**
 * The valid key `key` is most likely a misspelling of: the nearest, ignoring case, when at most
 * two in five of the longer one's letters (at least two) differ.
 */
function likelyMeant(key: string, known: readonly string[]): string | undefined {
  const lower = known.map((name) => name.toLowerCase());
  const nearest = closest(key.toLowerCase(), lower);
  const allowed = Math.max(2, Math.floor(Math.max(key.length, nearest.length) * 0.4));
  return distance(key.toLowerCase(), nearest) <= allowed
    ? known[lower.indexOf(nearest)]
    : undefined;
}

function refuse(where: string, problems: string[]): void {
  if (problems.length === 0) return;
  throw new InvalidTenantSessionOptionsError(`${where}: ${problems.join('; ')}`);
}
