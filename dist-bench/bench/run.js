/**
 * `npm run bench`: every benchmark in one run against one throwaway redis-server, then
 * bench/results/latest.{json,md}. `-- --only=http,tenants,revocation` runs a subset.
 */
import { Redis } from 'ioredis';
import { startRedisServer } from '../test/support/redis-server.mjs';
import { runHttpComparison } from './http-comparison.js';
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const wanted = (part) => !only || only.includes(part);
const log = (line) => console.log(line);
const server = await startRedisServer();
const redis = new Redis(server.url);
try {
    if (wanted('http')) {
        log('HTTP comparison');
        const phases = await runHttpComparison({
            redis,
            redisUrl: server.url,
            rounds: Number(process.env.BENCH_ROUNDS ?? 2),
            connections: 20,
            warmupSeconds: Number(process.env.BENCH_WARMUP_SECONDS ?? 2),
            measureSeconds: Number(process.env.BENCH_MEASURE_SECONDS ?? 8),
            log,
        });
        console.log(JSON.stringify(phases, null, 1));
    }
}
finally {
    redis.disconnect();
    await server.stop();
}
