// A throwaway redis-sentinel on a free loopback port, watching one master. It never fails the
// master over (no replicas, and a down-after far longer than any test), so a client that asks
// it for the master keeps being sent to the same server, whether that server answers or not.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './redis-server.mjs';

/**
 * @typedef {object} RedisSentinel
 * @property {string} name the master's name, for ioredis's `name` option
 * @property {{ host: string, port: number }[]} sentinels for ioredis's `sentinels` option
 * @property {() => Promise<void>} stop
 */

/**
 * @param {number} masterPort
 * @param {string} [name]
 * @returns {Promise<RedisSentinel>}
 */
export async function startRedisSentinel(masterPort, name = 'sessions-master') {
  const dir = await mkdtemp(join(tmpdir(), 'redis-sentinel-'));
  const port = await freePort();
  const config = join(dir, 'sentinel.conf');
  // Sentinel rewrites its config file, so it lives in a directory of its own.
  await writeFile(
    config,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${name} 127.0.0.1 ${masterPort} 1`,
      `sentinel down-after-milliseconds ${name} 600000`,
      '',
    ].join('\n'),
  );
  const child = spawn('redis-sentinel', [config], { stdio: 'ignore' });
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForMaster(port, name);
  } catch (error) {
    await stop();
    throw error;
  }
  return { name, sentinels: [{ host: '127.0.0.1', port }], stop };
}

/**
 * @param {number} port
 * @param {string} name
 */
async function waitForMaster(port, name) {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const client = new Redis({ port, lazyConnect: true, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const address = await client.call('SENTINEL', 'get-master-addr-by-name', name);
      if (Array.isArray(address)) return;
    } catch {
      // not listening yet
    } finally {
      client.disconnect();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`redis-sentinel did not come up on port ${port}`);
}
