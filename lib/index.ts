export { TenantSessionModule } from './tenant-session.module.js';
export { TENANT_SESSION_OPTIONS } from './tenant-session.module-definition.js';
export type {
  AuthenticatedCheck,
  TenantSessionModuleOptions,
  TenantSessionRoute,
  TenantSessionSettings,
  TenantSettingsSource,
} from './tenant-session-options.interface.js';
export { InvalidTenantSessionOptionsError } from './invalid-options.error.js';

export type { TenantResolution, TenantResolverFn } from './tenancy/tenant-resolution.interface.js';
export { TENANT_ID_PATTERN, normalizeTenantId } from './tenancy/tenant-id.js';
export { getRequestTenant } from './tenancy/request-tenant.js';

export { TenantSessionRegistry, type TenantSession } from './store/tenant-session.registry.js';
export { TenantSessionStore } from './store/tenant-session.store.js';
export { SessionBackend } from './store/session-backend.interface.js';

export {
  SessionRevocationService,
  type LoginOptions,
} from './revocation/session-revocation.service.js';
export type { ActiveSession } from './revocation/active-session.interface.js';
export type { RevocationReason, SessionRevokedEvent } from './revocation/session-revoked.event.js';

export { Session } from './http/session.decorator.js';
export { Tenant } from './http/tenant.decorator.js';
export { Public } from './http/public.decorator.js';
export { SessionAuthGuard } from './http/session-auth.guard.js';
export { UnknownTenantException } from './http/unknown-tenant.exception.js';
export { SessionStoreUnavailableException } from './http/session-store-unavailable.exception.js';
