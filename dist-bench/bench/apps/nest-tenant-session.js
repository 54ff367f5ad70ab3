/** (c) This module in a sample-style Nest app: several tenants told apart by Host. */
import { announceReady, BENCH_HOSTS, benchServerEnv } from './bench-app.js';
import { createTenantSessionApp } from './tenant-session-app.js';
const { port, redisUrl } = benchServerEnv();
const app = await createTenantSessionApp({ tenant: { byHost: BENCH_HOSTS }, redis: redisUrl });
await app.listen(port, '127.0.0.1');
announceReady(() => app.close());
