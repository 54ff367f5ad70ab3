/** Settings of the near cache (the module's `nearCache` option, checked). */
export interface NearCacheSettings {
  maxEntries: number;
  /** How often the invalidation connection must answer PING, and how long it may take. */
  heartbeatMs: number;
}
