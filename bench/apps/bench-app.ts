/**
 * What every benchmarked server shares: the same routes, users, secret and idle TTL, and the
 * same way of starting as a child process (port and Redis URL from the environment, "ready"
 * over IPC, a clean exit on SIGTERM).
 */
import { Cluster } from 'ioredis';
import { AllocationMeter } from './allocation-meter.js';

export const BENCH_SECRET = 'bench-secret-0123456789-abcdefghij';
export const IDLE_TTL_SECONDS = 3600;
export const BENCH_APP_NAME = 'bench';

/** Host → tenant of the multi-tenant app; the single-tenant apps ignore the Host. */
export const BENCH_HOSTS: Record<string, string> = {
  'acme.bench.test': 'acme',
  'globex.bench.test': 'globex',
  'initech.bench.test': 'initech',
  'umbrella.bench.test': 'umbrella',
};

/** The session fields the routes read and write. */
declare module 'express-session' {
  interface SessionData {
    user?: string;
    count?: number;
  }
}

export interface BenchServerEnv {
  port: number;
  redisUrl: string;
}

export function benchServerEnv(): BenchServerEnv {
  const port = Number(process.env.BENCH_PORT);
  if (!Number.isInteger(port) || port <= 0) throw new Error('BENCH_PORT is required');
  return { port, redisUrl: process.env.BENCH_REDIS_URL ?? '' };
}

/**
 * The module's `redis` option: a Cluster when `BENCH_REDIS_CLUSTER` names its startup nodes
 * (`host:port,host:port`), else the Redis URL.
 */
export function benchRedisOption(redisUrl: string): string | Cluster {
  const nodes = process.env.BENCH_REDIS_CLUSTER;
  if (!nodes) return redisUrl;
  return new Cluster(
    nodes.split(',').map((node) => {
      const [host, port] = node.split(':');
      return { host, port: Number(port) };
    }),
  );
}

/** Messages the parent sends to a running server. */
export type BenchMessage =
  { type: 'cpu' } | { type: 'heap' } | { type: 'allocation-start' } | { type: 'allocation' };

/**
 * Tells the parent the server listens, answers its `cpu` questions with this process's CPU time
 * (`process.cpuUsage()`, µs) and its `allocation` ones with the heap bytes allocated since its
 * `allocation-start`, and closes the server (once) when the parent asks.
 */
export function announceReady(close: () => Promise<void>): void {
  const allocation = new AllocationMeter();
  process.on('message', (message: BenchMessage) => {
    if (message.type === 'cpu') process.send?.(process.cpuUsage());
    if (message.type === 'allocation-start') {
      allocation.start();
      process.send?.('started');
    }
    if (message.type === 'allocation') process.send?.(allocation.stop());
  });
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('disconnect', stop);
  process.send?.({ ready: true });
}
