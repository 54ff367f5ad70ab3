/**
 * The name of every metric, span, attribute and Redis operation the module records, in
 * OpenTelemetry's semantic style. docs/observability.md lists them all (telemetry-names.spec.ts
 * holds it to this file).
 */

/** The instrumentation scope: the meter's and tracer's name. */
export const INSTRUMENTATION_SCOPE = 'nestjs-tenant-session';

export const METRICS = {
  logins: 'tenant_session.logins',
  logouts: 'tenant_session.logouts',
  revocations: 'tenant_session.revocations',
  revokedSessions: 'tenant_session.revoked_sessions',
  refusals: 'tenant_session.refusals',
  nearCacheHits: 'tenant_session.near_cache.hits',
  nearCacheMisses: 'tenant_session.near_cache.misses',
  nearCacheInvalidations: 'tenant_session.near_cache.invalidations',
  redisDuration: 'tenant_session.redis.duration',
  sessionWorkDuration: 'tenant_session.request.session_work.duration',
} as const;

export const SPANS = {
  login: 'tenant_session.login',
  revocation: 'tenant_session.revocation',
  /** Followed by the operation: `redis session.read`. */
  redisPrefix: 'redis ',
} as const;

export const ATTRIBUTES = {
  tenant: 'tenant_session.tenant',
  deployment: 'tenant_session.deployment',
  revocationReason: 'tenant_session.revocation.reason',
  refusalCode: 'tenant_session.refusal.code',
  statusCode: 'http.response.status_code',
  dbSystem: 'db.system',
  dbSystemName: 'db.system.name',
  dbOperation: 'db.operation.name',
  errorType: 'error.type',
} as const;

/** What a Redis round trip did, as `db.operation.name` names it. */
export const REDIS_OPERATIONS = [
  'session.read',
  'session.expire',
  'session.write',
  'session.discard',
  'session.inspect',
  'session.remove',
  'session.scan',
  'index.admit',
  'index.adopt',
  'index.confirm',
  'index.lease',
  'index.entries',
  'index.page',
  'index.unindex',
  'ping',
  'server.memory',
] as const;

export type RedisOperation = (typeof REDIS_OPERATIONS)[number];
