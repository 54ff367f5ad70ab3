/** Runs one benchmarked server in a child process of its own, on a free loopback port. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/support/redis-server.mjs';
import type { BenchMessage } from './apps/bench-app.js';

export interface ChildServer {
  port: number;
  pid: number;
  /** Sends a message and resolves with the child's next one. */
  ask<T>(message: BenchMessage): Promise<T>;
  /** The child's CPU time so far (user + system), µs. */
  cpuMicros(): Promise<number>;
  /** Resolves with the bytes the child allocates on its heap while `during` runs. */
  allocated<T>(during: () => Promise<T>): Promise<{ result: T; bytes: number }>;
  stop(): Promise<void>;
}

export interface ChildServerOptions {
  /** Node flags; the same (none by default) for every server compared. */
  execArgv?: string[];
  env?: Record<string, string>;
}

const START_TIMEOUT_MS = 20_000;

/** `script` is a path relative to this file's directory, e.g. `apps/nest-plain.js`. */
export async function startChildServer(
  script: string,
  redisUrl: string,
  options: ChildServerOptions = {},
): Promise<ChildServer> {
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
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
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
  const ask = <T>(message: BenchMessage) =>
    new Promise<T>((resolve) => {
      child.once('message', (reply) => resolve(reply as T));
      child.send(message);
    });
  return {
    port,
    pid: child.pid!,
    ask,
    cpuMicros: async () => {
      const { user, system } = await ask<NodeJS.CpuUsage>({ type: 'cpu' });
      return user + system;
    },
    allocated: async <T>(during: () => Promise<T>) => {
      await ask({ type: 'allocation-start' });
      const result = await during();
      return { result, bytes: await ask<number>({ type: 'allocation' }) };
    },
    stop: () => stopChild(child, exited),
  };
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
