import type { SessionTelemetry } from '../../telemetry/session-telemetry.js';

/** Settings of the near cache (the module's `nearCache` option, checked). */
export interface NearCacheSettings {
  maxEntries: number;
  /** How often the invalidation connection must answer PING, and how long it may take. */
  heartbeatMs: number;
}

/** Where the near cache's hits, misses and invalidations are counted, and as which deployment. */
export interface NearCacheTelemetry {
  telemetry: SessionTelemetry;
  deployment: string;
}
