/** Runs one benchmarked server in a child process of its own, on a free loopback port. */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/support/redis-server.mjs';
const START_TIMEOUT_MS = 20_000;
/** `script` is a path relative to this file's directory, e.g. `apps/nest-plain.js`. */
export async function startChildServer(script, redisUrl, options = {}) {
    const port = await freePort();
    const child = fork(fileURLToPath(new URL(script, import.meta.url)), [], {
        env: {
            ...process.env,
            ...options.env,
            NODE_ENV: 'production',
            BENCH_PORT: String(port),
            BENCH_REDIS_URL: redisUrl,
        },
        execArgv: options.execArgv ?? [],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
            child.kill('SIGKILL');
            reject(new Error(`${script} did not start within ${START_TIMEOUT_MS} ms`));
        }, START_TIMEOUT_MS);
        child.once('message', () => {
            clearTimeout(timer);
            resolve();
        });
        void exited.then(() => {
            clearTimeout(timer);
            reject(new Error(`${script} exited before it was ready`));
        });
    });
    return {
        port,
        ask: (message) => new Promise((resolve) => {
            child.once('message', (reply) => resolve(reply));
            child.send(message);
        }),
        stop: () => stopChild(child, exited),
    };
}
async function stopChild(child, exited) {
    if (child.exitCode !== null || child.signalCode !== null)
        return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
}
