/**
 * One tenant's settings, checked over the module's: at start-up for a map, on first use for a
 * function.
 */
import type { CookieOptions } from 'express-session';
import { InvalidTenantSessionOptionsError } from '../errors/invalid-options.error.js';
import { checkCookieAttributes } from './cookie-attributes.js';
import { checkCookiePrefix } from './cookie-prefix.js';
import { checkTrustedOrigins } from './csrf-options.js';
import { checkDeploymentName } from './deployments-option.js';
import { checkTenantKeyPrefix } from './key-templates.js';
import { adoptionWindowEnd } from './legacy-session-adoption.js';
import { sessionSeconds } from './option-numbers.js';
import { checkTenantSettingsKeys } from './option-keys.js';
import type { RedisSource } from './redis-option.js';
import { checkSecrets } from './secret-policy.js';
import type { TenantSessionSettings } from './tenant-session-options.interface.js';

/** The module's settings a tenant's own are checked over. */
export interface TenantSettingsDefaults {
  cookieName: string;
  cookie: CookieOptions;
  deployments: Record<string, RedisSource>;
  keyPrefix: string;
  indexPrefix: string;
}

/**
 * Validates one tenant's overrides, over the module's cookie settings; used at start-up for maps
 * and on first use for functions.
 */
export function checkTenantSettings(
  tenant: string,
  settings: TenantSessionSettings | undefined,
  defaults: TenantSettingsDefaults,
): void {
  const where = `tenantSettings[${tenant}]`;
  if (settings !== undefined && (typeof settings !== 'object' || settings === null)) {
    throw new InvalidTenantSessionOptionsError(`${where} must be an object of settings`);
  }
  if (settings) checkTenantSettingsKeys(where, settings);
  if (settings?.keyPrefix !== undefined) {
    checkTenantKeyPrefix(where, settings.keyPrefix, defaults);
  }
  checkDeploymentName(where, settings?.deployment, defaults.deployments);
  if (settings?.secret !== undefined) checkSecrets(settings.secret, where);
  for (const name of ['idleTtl', 'absoluteLifetime'] as const) {
    const value = settings?.[name];
    if (value !== undefined) sessionSeconds(`${where}.${name}`, value);
  }
  checkTrustedOrigins(`${where}.trustedOrigins`, settings?.trustedOrigins);
  adoptionWindowEnd(`${where}.adoptLegacySessions`, settings?.adoptLegacySessions);
  if (settings?.cookieName !== undefined || settings?.cookieDomain !== undefined) {
    const name = settings.cookieName ?? defaults.cookieName;
    const cookie = { ...defaults.cookie, domain: settings.cookieDomain ?? defaults.cookie.domain };
    checkCookiePrefix(where, name, cookie);
    checkCookieAttributes(where, name, cookie);
  }
}
