/**
 * A TCP proxy in front of Redis that holds every chunk, both ways, for BENCH_DELAY_MS (0.25 ms:
 * a same-zone managed Redis a network hop away), so a request's round trips to Redis show in its
 * latency as they would in production. Order is kept per direction.
 *
 * Timers have 1 ms resolution, and polling for due chunks would spin a core of this 2-core
 * machine whenever anything is held, taking it from the servers compared. So a worker thread
 * sleeps in `Atomics.wait`, whose timeout has sub-millisecond precision, until the first held
 * chunk is due, and wakes this thread with a message; the proxy costs CPU per chunk, not per
 * microsecond held.
 */
import { createConnection, createServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { announceReady, benchServerEnv } from './bench-app.js';

/** ms since the epoch, sub-ms; both threads' clocks agree on it (each has its own timeOrigin). */
const now = () => performance.timeOrigin + performance.now();

if (isMainThread) runProxy();
else runAlarm();

function runProxy(): void {
  const { port, redisUrl } = benchServerEnv();
  const delayMs = Number(process.env.BENCH_DELAY_MS ?? 0.25);
  const target = new URL(redisUrl);
  const shared = new SharedArrayBuffer(16);
  const { armings, due } = alarmClock(shared);
  const alarm = new Worker(new URL(import.meta.url), { workerData: shared });
  alarm.unref();

  const held: { due: number; to: Socket; chunk: Buffer }[] = [];
  let armed = false;
  // How late the alarm rings when the worker had to sleep (its wake-up and the message to this
  // thread, about 0.2 ms), learnt as it goes: the alarm is set that much early, so chunks leave
  // on time. Capped at half the delay: a busy main thread answers late too, and that must not
  // shorten the delay.
  let lateMs = 0;
  let armedFor = 0;
  let slept = false;
  const arm = () => {
    armed = true;
    armedFor = held[0].due - lateMs;
    slept = armedFor > now();
    due[0] = armedFor;
    Atomics.add(armings, 0, 1);
    Atomics.notify(armings, 0);
  };
  // The alarm rang: send every chunk whose time has come (they are queued in due order).
  alarm.on('message', () => {
    armed = false;
    const at = now();
    if (slept) lateMs = Math.min(0.9 * lateMs + 0.1 * (at - armedFor), delayMs / 2);
    let sent = 0;
    while (sent < held.length && held[sent].due <= at + lateMs) {
      const { to, chunk } = held[sent++];
      if (!to.destroyed) to.write(chunk);
    }
    held.splice(0, sent);
    if (held.length > 0) arm();
  });
  const hold = (to: Socket, chunk: Buffer) => {
    held.push({ due: now() + delayMs, to, chunk });
    if (!armed) arm();
  };

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
}

/** Shared by both threads: how many times the alarm was armed, and when it is due (0: not). */
function alarmClock(shared: SharedArrayBuffer) {
  return { armings: new Int32Array(shared, 0, 1), due: new Float64Array(shared, 8, 1) };
}

/** The worker: sleeps until the armed due time, then rings the proxy, once per arming. */
function runAlarm(): void {
  const { armings, due } = alarmClock(workerData as SharedArrayBuffer);
  let seen = Atomics.load(armings, 0);
  for (;;) {
    const left = due[0] === 0 ? Infinity : due[0] - now();
    if (left > 0) {
      // Woken early by a new arming (the count changed), else at the due time.
      Atomics.wait(armings, 0, seen, left);
      seen = Atomics.load(armings, 0);
      continue;
    }
    due[0] = 0;
    parentPort!.postMessage(0);
  }
}
