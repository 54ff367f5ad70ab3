/**
 * A TCP proxy in front of Redis that holds every chunk, both ways, for BENCH_DELAY_MS (0.25 ms:
 * a same-zone managed Redis a network hop away), so a request's round trips to Redis show in its
 * latency as they would in production. Timers have 1 ms resolution, so due chunks are polled
 * with setImmediate while any are held: the proxy spends CPU, in a process of its own, the same
 * for every server compared. Order is kept per direction.
 */
import { createConnection, createServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { announceReady, benchServerEnv } from './bench-app.js';

const { port, redisUrl } = benchServerEnv();
const delayMs = Number(process.env.BENCH_DELAY_MS ?? 0.25);
const target = new URL(redisUrl);

interface Held {
  due: number;
  to: Socket;
  chunk: Buffer;
}
const held: Held[] = [];
let polling = false;

function hold(to: Socket, chunk: Buffer): void {
  held.push({ due: performance.now() + delayMs, to, chunk });
  if (!polling) {
    polling = true;
    setImmediate(release);
  }
}

/** Sends every chunk whose time has come (chunks are queued in due order). */
function release(): void {
  const now = performance.now();
  let sent = 0;
  while (sent < held.length && held[sent].due <= now) {
    const { to, chunk } = held[sent++];
    if (!to.destroyed) to.write(chunk);
  }
  held.splice(0, sent);
  if (held.length > 0) setImmediate(release);
  else polling = false;
}

const server = createServer((client) => {
  const upstream = createConnection(Number(target.port), target.hostname);
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  client.on('data', (chunk) => hold(upstream, chunk));
  upstream.on('data', (chunk) => hold(client, chunk));
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('close', close).on('error', close);
  upstream.on('close', close).on('error', close);
});
server.listen(port, '127.0.0.1', () =>
  announceReady(() => new Promise((resolve) => server.close(() => resolve()))),
);
