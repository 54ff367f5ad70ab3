// A throwaway three-master Redis Cluster on free loopback ports, built from redis-server child
// processes and `redis-cli --cluster create`.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './redis-server.mjs';

const run = promisify(execFile);

/**
 * @returns {Promise<{ nodes: { host: string, port: number }[], stop: () => Promise<void> }>}
 */
export async function startRedisCluster() {
  const dir = await mkdtemp(join(tmpdir(), 'redis-cluster-'));
  const ports = [await freePort(), await freePort(), await freePort()];
  const children = ports.map((port) =>
    spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: 'ignore' },
    ),
  );
  const stop = async () => {
    await Promise.all(
      children.map((child) => {
        if (child.exitCode !== null) return undefined;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        return exited;
      }),
    );
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) await waitForPort(port);
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    await waitForClusterOk(ports[0]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes: ports.map((port) => ({ host: '127.0.0.1', port })), stop };
}

/** @param {number} port */
const waitForPort = (port) =>
  poll(() => ask(port, async (client) => (await client.ping()) === 'PONG'));

/** @param {number} port */
const waitForClusterOk = (port) =>
  poll(() => ask(port, async (client) => /cluster_state:ok/.test(await client.cluster('INFO'))));

/**
 * One question to one node on a short-lived connection.
 * @param {number} port
 * @param {(client: Redis) => Promise<boolean>} question
 */
async function ask(port, question) {
  const client = new Redis({ port, lazyConnect: true, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await question(client);
  } finally {
    client.disconnect();
  }
}

/** @param {() => Promise<boolean>} probe */
async function poll(probe) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('Redis Cluster did not come up');
}
