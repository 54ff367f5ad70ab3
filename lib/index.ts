export { TenantSessionModule } from './tenant-session.module.js';
export { TENANT_SESSION_OPTIONS } from './tenant-session.module-definition.js';
export type {
  AuthenticatedCheck,
  CsrfOptions,
  LegacySessionAdoption,
  SessionIdentity,
  TenantSessionDurability,
  TenantSessionModuleOptions,
  TenantSessionOptionsFactory,
  TenantSessionRoute,
  TenantSessionSettings,
  TenantSettingsSource,
} from './options/tenant-session-options.interface.js';
export type { RevocationReason, SessionRevokedEvent } from './options/session-revoked.event.js';
export type { TenantSessionTelemetryOptions } from './options/telemetry-option.js';

export { InvalidTenantSessionOptionsError } from './errors/invalid-options.error.js';
export { UnsafeEvictionPolicyError } from './errors/unsafe-eviction-policy.error.js';
export { UnknownTenantException } from './errors/unknown-tenant.exception.js';
export { SessionStoreUnavailableException } from './errors/session-store-unavailable.exception.js';
export { LoginRequiredException } from './errors/login-required.exception.js';
export { LoginRevokedException } from './errors/login-revoked.exception.js';
export { SessionRevokedException } from './errors/session-revoked.exception.js';
export { RecentLoginRequiredException } from './errors/recent-login-required.exception.js';
export { CsrfRejectedException, type CsrfRejection } from './errors/csrf-rejected.exception.js';
export { InvalidSessionPageException } from './errors/invalid-session-page.exception.js';
export { InvalidUserIdException } from './errors/invalid-user-id.exception.js';

export type { TenantResolution, TenantResolverFn } from './tenancy/tenant-resolution.interface.js';
export type { KnownTenantsSource } from './tenancy/known-tenants.js';
export { TENANT_ID_PATTERN, normalizeTenantId } from './tenancy/tenant-id.js';
export { getRequestTenant, sessionUserId } from './session/request-context.js';
export type { SessionRequest } from './session/session-request.js';
export { TenantIdentifier } from './tenancy/tenant-identifier.js';

export { TenantSessionRegistry } from './session/tenant-session.registry.js';
export type {
  StoreCallback,
  TenantSessionStore,
} from './session/tenant-session-store.interface.js';
export type { ListedSession } from './session/session-listing.js';
export {
  SessionStatsService,
  type DeploymentStats,
  type TenantStats,
} from './session/session-stats.service.js';
export type { ServerMemory } from './store/session-backend.interface.js';
export {
  indexExistingSessions,
  type IndexExistingSessionsOptions,
  type IndexingCounts,
  type IndexingProgress,
  type IndexingResult,
  type SessionScanCursor,
} from './session/index-existing-sessions.js';

export { SessionLoginService, type LoginOptions } from './identity/session-login.service.js';
export { SessionRevocationService } from './revocation/session-revocation.service.js';
export type { ActiveSession } from './revocation/active-session.interface.js';
export type {
  DeviceType,
  LoginDetails,
  LoginFields,
  LoginFieldsHook,
  SessionDevice,
} from './options/login-fields.interface.js';
export {
  DEFAULT_SESSION_PAGE_LIMIT,
  MAX_SESSION_PAGE_LIMIT,
  type SessionListOptions,
  type SessionPage,
} from './revocation/session-page.js';

export { Session } from './http/session.decorator.js';
export { SessionUserId } from './http/session-user-id.decorator.js';
export { Tenant } from './http/tenant.decorator.js';
export { Public } from './http/public.decorator.js';
export { SessionAuthGuard } from './http/session-auth.guard.js';
export { RequireRecentLogin } from './http/require-recent-login.decorator.js';
export { RecentLoginGuard } from './http/recent-login.guard.js';
export { csrfToken } from './http/csrf-token.js';
export { CsrfToken } from './http/csrf-token.decorator.js';
