// A throwaway redis-server on a free loopback port; never the one on 6379.
// Plain JavaScript so jest's globalSetup (loaded outside jest's module system) can use it too.
import { spawn } from 'node:child_process';
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
 */

/**
 * @param {string[]} [extraArgs] more redis-server flags, e.g. ['--maxmemory', '2mb']
 * @returns {Promise<RedisServer>}
 */
export async function startRedisServer(extraArgs = []) {
  const port = await freePort();
  /** @type {import('node:child_process').ChildProcess | undefined} */
  let child;
  const server = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = spawn(
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
      const failed = new Promise((_, reject) =>
        child?.once('error', (error) =>
          reject(new Error(`redis-server could not start (is it installed?): ${error.message}`)),
        ),
      );
      await Promise.race([waitForPing(port), failed]);
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
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGCONT');
      running.kill('SIGKILL');
      await exited;
    },
  };
  await server.start();
  return server;
}

/** @returns {Promise<number>} a loopback port nobody listens on right now */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = /** @type {import('node:net').AddressInfo} */ (probe.address());
      probe.close(() => resolve(address.port));
    });
  });
}

/** @param {number} port */
async function waitForPing(port) {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const client = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      client.disconnect();
    }
  }
  throw new Error(`redis-server did not answer on port ${port}`);
}
