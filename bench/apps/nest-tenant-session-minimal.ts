/**
 * (m) The like-for-like partner of (d): a fresh Nest app on this module with one tenant and only
 * (d)'s routes, what a user moving from `app.use(session())` + connect-redis would write.
 * `BENCH_NEAR_CACHE=on` turns the near cache on ((n)); `BENCH_PLATFORM=fastify` serves the same
 * app with `FastifyAdapter` ((p), the partner of (q)).
 */
import { announceReady, benchServerEnv } from './bench-app.js';
import { createTenantSessionApp } from './tenant-session-app.js';

const { port, redisUrl } = benchServerEnv();
const app = await createTenantSessionApp(
  {
    tenant: () => 'default',
    redis: redisUrl,
    ...(process.env.BENCH_NEAR_CACHE === 'on' && { nearCache: true }),
  },
  { minimal: true, platform: process.env.BENCH_PLATFORM === 'fastify' ? 'fastify' : 'express' },
);
await app.listen(port, '127.0.0.1');
announceReady(() => app.close());
