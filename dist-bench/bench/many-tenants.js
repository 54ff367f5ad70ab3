import { startChildServer } from './child-server.js';
import { httpRequest, logIn } from './http-load.js';
export const CHECKPOINTS = [0, 500, 1_000, 2_000, 5_000, 10_000];
const CONCURRENCY = 8;
export async function runManyTenants(o) {
    const runs = [];
    for (const bound of o.bounds)
        runs.push(await measureBound(o.redisUrl, bound, o.log));
    return runs;
}
async function measureBound(redisUrl, bound, log) {
    const server = await startChildServer('apps/many-tenants-server.js', redisUrl, {
        execArgv: ['--expose-gc'],
        env: { BENCH_MAX_CACHED_TENANTS: String(bound) },
    });
    try {
        const tenant = (i) => `t${bound}-${String(i).padStart(5, '0')}`;
        const cookies = [];
        // Warm the code paths (and JIT) on one tenant before the baseline sample.
        await logIn(server.port, 'warm-up', { 'x-tenant': `warm-${bound}` });
        const samples = [];
        let created = 0;
        for (const checkpoint of CHECKPOINTS) {
            while (created < checkpoint) {
                const batch = Array.from({ length: Math.min(CONCURRENCY, checkpoint - created) }, (_, k) => created + k + 1);
                cookies.push(...(await Promise.all(batch.map((i) => logIn(server.port, `user-${i}`, { 'x-tenant': tenant(i) })))));
                created += batch.length;
            }
            const sample = await server.ask({ sample: true });
            samples.push({
                tenants: checkpoint,
                heapUsedBytes: sample.heapUsed,
                cachedTenants: sample.cachedTenants,
            });
            log(`  bound ${bound}: ${String(checkpoint).padStart(6)} tenants  heap ${mb(sample.heapUsed)} MB` +
                `  cached ${sample.cachedTenants}`);
        }
        const first = await httpRequest(server.port, {
            method: 'GET',
            path: '/me',
            headers: { 'x-tenant': tenant(1), cookie: cookies[0] },
        });
        const at = (n) => samples.find((s) => s.tenants === n).heapUsedBytes;
        const filled = Math.min(bound, 1_000);
        return {
            maxCachedTenants: bound,
            samples,
            bytesPerTenantBelowBound: (at(filled) - at(0)) / filled,
            bytesPerTenantFrom2000To10000: (at(10_000) - at(2_000)) / 8_000,
            firstTenantStillServed: first.status === 200 && JSON.parse(first.body).user === 'user-1',
        };
    }
    finally {
        await server.stop();
    }
}
function mb(bytes) {
    return (bytes / 2 ** 20).toFixed(1);
}
