// A throwaway redis-server on a free loopback port; never the one on 6379.
// Plain JavaScript so jest's globalSetup (loaded outside jest's module system) can use it too.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/**
 * @typedef {object} RedisServer
 * @property {number} port
 * @property {string} url
 * @property {() => Promise<void>} stop  Stops the server (no persistence: data is gone).
 * @property {() => Promise<void>} start Starts it again on the same port.
 * @property {() => void} pause  Freezes it (SIGSTOP): connections stay open, nothing answers.
 * @property {() => void} resume Unfreezes it (SIGCONT).
 * @property {boolean} running whether it was started and not stopped since
 */

/**
 * @param {string[]} [extraArgs] more redis-server flags, e.g. ['--maxmemory', '2mb']
 * @returns {Promise<RedisServer>}
 */
export async function startRedisServer(extraArgs = []) {
  /** @type {import('node:child_process').ChildProcess | undefined} */
  let child;
  let everStarted = false;
  const server = {
    port: 0,
    url: '',
    get running() {
      return child !== undefined;
    },
    async start() {
      const spawnAt = (/** @type {number} */ port) =>
        spawn(
          'redis-server',
          [
            '--port',
            String(port),
            '--bind',
            '127.0.0.1',
            '--save',
            '',
            '--appendonly',
            'no',
            ...extraArgs,
          ],
          { stdio: 'ignore' },
        );
      // The first start may move to another port; restarts keep theirs, which clients know.
      if (everStarted) child = await spawnVerified(server.port, spawnAt);
      else {
        ({ port: server.port, child } = await spawnOnFreePort(spawnAt));
        server.url = `redis://127.0.0.1:${server.port}`;
      }
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async stop() {
      const running = child;
      child = undefined;
      if (!running || hasEnded(running)) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGCONT');
      running.kill('SIGKILL');
      await exited;
    },
  };
  await server.start();
  everStarted = true;
  return server;
}

/** The redis-server exited at start-up: on a free port, that is a lost race for the port. */
class PortTakenError extends Error {
  constructor() {
    super('redis-server exited at start-up (port taken?)');
  }
}

/** Ports this process handed out: the kernel may pick a just-closed port again. */
const handedOut = new Set();

/**
 * Where test servers listen: just below the kernel's ephemeral range (Linux), from which every
 * outgoing connection takes its local port. A server stopped and started again on its port (a
 * replica, a failover) could otherwise find the port held by some connection's local end, even
 * a client's own retry to that very port connecting to itself; below the range only another
 * listener can take it. Undefined where the range cannot be read: any free port then.
 */
const LISTEN_PORTS = (() => {
  try {
    const [first] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/);
    const below = Number(first);
    return below > 12_000 ? { from: below - 10_000, to: below - 1 } : undefined;
  } catch {
    return undefined;
  }
})();

/**
 * @param {number} port 0 for any
 * @returns {Promise<number | undefined>} the port, once bound and released; undefined if taken
 */
function probe(port) {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error) =>
      /** @type {NodeJS.ErrnoException} */ (error).code === 'EADDRINUSE'
        ? resolve(undefined)
        : reject(error),
    );
    server.listen(port, '127.0.0.1', () => {
      const address = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolve(address.port));
    });
  });
}

/**
 * Whether a child process has ended: by exiting, or by a signal (SIGKILL leaves `exitCode` null).
 * @param {import('node:child_process').ChildProcess} child
 */
export function hasEnded(child) {
  return child.exitCode !== null || child.signalCode !== null;
}

/** @returns {Promise<number>} a loopback port nobody listens on right now, new to this process */
export async function freePort() {
  for (;;) {
    const candidate = LISTEN_PORTS
      ? LISTEN_PORTS.from + Math.floor(Math.random() * (LISTEN_PORTS.to - LISTEN_PORTS.from + 1))
      : 0;
    if (handedOut.has(candidate)) continue;
    const port = await probe(candidate);
    if (port === undefined || handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

/**
 * Starts a server (redis-server or sentinel) on a free port, retrying on another port when a
 * different process won the port between freePort() and the bind (at most 5 tries).
 * @param {(port: number) => import('node:child_process').ChildProcess | Promise<import('node:child_process').ChildProcess>} spawnAt
 * @returns {Promise<{ port: number, child: import('node:child_process').ChildProcess }>}
 */
export async function spawnOnFreePort(spawnAt) {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return { port, child: await spawnVerified(port, spawnAt) };
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt === 5) throw error;
    }
  }
}

/**
 * Starts a server on `port` and resolves once it answers as itself (by pid).
 * @param {number} port
 * @param {(port: number) => import('node:child_process').ChildProcess | Promise<import('node:child_process').ChildProcess>} spawnAt
 */
export async function spawnVerified(port, spawnAt) {
  const child = await spawnAt(port);
  const failed = new Promise((_, reject) => {
    child.once('error', (error) =>
      reject(new Error(`${child.spawnfile} could not start (is it installed?): ${error.message}`)),
    );
    child.once('exit', () => reject(new PortTakenError()));
  });
  try {
    await Promise.race([waitForPing(port, child), failed]);
    return child;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

/**
 * Waits until the server answers, and checks it is the one we started (by pid), not another
 * process that won the port.
 * @param {number} port
 * @param {import('node:child_process').ChildProcess} child
 */
async function waitForPing(port, child) {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !hasEnded(child)) {
    try {
      const info = await askRedis(port, (client) => client.info('server'));
      if (new RegExp(`^process_id:${child.pid}\\r?$`, 'm').test(info)) return;
      if (/^process_id:/m.test(info)) throw new PortTakenError();
    } catch (error) {
      if (error instanceof PortTakenError) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`redis-server did not answer on port ${port}`);
}

/**
 * One question to one server (or sentinel) on loopback, on a short-lived connection.
 * @template T
 * @param {number} port
 * @param {(client: Redis) => Promise<T>} question
 * @returns {Promise<T>}
 */
export async function askRedis(port, question) {
  const client = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => null,
    commandTimeout: 2000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await question(client);
  } finally {
    client.disconnect();
  }
}

/**
 * Asks `probe` every 100 ms (a throw counts as no) until it says yes, for at most `limitMs`.
 * @param {() => Promise<unknown>} probe
 * @param {number} limitMs
 * @param {string} failure the error message when it never does
 */
export async function pollUntil(probe, limitMs, failure) {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(failure);
}
