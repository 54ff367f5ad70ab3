/**
 * (c) This module in a sample-style Nest app: several tenants told apart by Host.
 * `BENCH_SESSION_CAP=off` turns `maxSessionsPerUser` off (the listing benchmark's 30,000 sessions);
 * `BENCH_NEAR_CACHE=on` turns the near cache on; `BENCH_REDIS_CLUSTER` puts it on a Cluster
 * (bench-app.ts); `BENCH_OTEL=sdk` registers the OpenTelemetry
 * SDK first (otel-sdk.ts), so the module's metrics and spans are recorded and exported.
 */
import { announceReady, BENCH_HOSTS, benchRedisOption, benchServerEnv } from './bench-app.js';
import { createTenantSessionApp } from './tenant-session-app.js';

const { port, redisUrl } = benchServerEnv();
if (process.env.BENCH_OTEL === 'sdk') await import('./otel-sdk.js');
const app = await createTenantSessionApp({
  tenant: { byHost: BENCH_HOSTS },
  redis: benchRedisOption(redisUrl),
  ...(process.env.BENCH_SESSION_CAP === 'off' && { maxSessionsPerUser: false }),
  ...(process.env.BENCH_NEAR_CACHE === 'on' && { nearCache: true }),
});
await app.listen(port, '127.0.0.1');
announceReady(() => app.close());
