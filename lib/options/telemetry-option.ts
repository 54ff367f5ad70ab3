import { InvalidTenantSessionOptionsError } from '../errors/invalid-options.error.js';

/**
 * What the module's OpenTelemetry metrics and spans carry (see docs/observability.md). They are
 * recorded through `@opentelemetry/api` when the app has it, and cost next to nothing without
 * an SDK registered.
 */
export interface TenantSessionTelemetryOptions {
  /**
   * Put the tenant id on metrics and spans (`tenant_session.tenant`). Turn it off when tenants
   * are too many for the metrics backend (every tenant is a time series per metric); the
   * deployment stays. Default: true.
   */
  tenantAttribute?: boolean;
}

export interface ResolvedTelemetry {
  tenantAttribute: boolean;
}

/** The `telemetry` option, checked and defaulted. */
export function checkTelemetry(telemetry: unknown): ResolvedTelemetry {
  if (telemetry === undefined) return { tenantAttribute: true };
  if (typeof telemetry !== 'object' || telemetry === null || Array.isArray(telemetry)) {
    throw new InvalidTenantSessionOptionsError('telemetry must be an object: { tenantAttribute }');
  }
  const { tenantAttribute = true } = telemetry as TenantSessionTelemetryOptions;
  if (typeof tenantAttribute !== 'boolean') {
    throw new InvalidTenantSessionOptionsError(
      'telemetry.tenantAttribute must be true or false (false: metrics without the tenant id)',
    );
  }
  return { tenantAttribute };
}
