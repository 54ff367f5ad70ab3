/**
 * `nestjs-tenant-session/health`: the `@nestjs/terminus` indicator. An entry point of its own,
 * so the main one never loads terminus, an optional peer dependency.
 */
export {
  TenantSessionHealthIndicator,
  type TenantSessionPingOptions,
} from './tenant-session.health.js';
