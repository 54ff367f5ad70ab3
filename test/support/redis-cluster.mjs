// A throwaway three-master Redis Cluster on free loopback ports, built from redis-server child
// processes and `redis-cli --cluster create`. Any one master can be frozen (SIGSTOP) and resumed,
// to fail one shard while the others answer.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './redis-server.mjs';

const run = promisify(execFile);

/**
 * @typedef {object} RedisCluster
 * @property {{ host: string, port: number }[]} nodes the masters (startup nodes for ioredis)
 * @property {(port: number) => void} pause  Freezes one master (SIGSTOP): its connections stay
 *   open and nothing it owns answers; the cluster does not fail it over (no replicas, and pauses
 *   are far shorter than cluster-node-timeout).
 * @property {(port: number) => void} resume Unfreezes it (SIGCONT); queued commands then run.
 * @property {(key: string) => Promise<number>} portOf the port of the master owning `key`'s slot
 *   (asked of a master that is not paused)
 * @property {() => Promise<void>} stop
 */

/** @returns {Promise<RedisCluster>} */
export async function startRedisCluster() {
  const dir = await mkdtemp(join(tmpdir(), 'redis-cluster-'));
  const ports = [await freePort(), await freePort(), await freePort()];
  /** @type {Set<number>} */
  const paused = new Set();
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
  /** @param {number} port */
  const child = (port) => {
    const index = ports.indexOf(port);
    if (index < 0) throw new Error(`no cluster node on port ${port}`);
    return children[index];
  };
  return {
    nodes: ports.map((port) => ({ host: '127.0.0.1', port })),
    pause(port) {
      child(port).kill('SIGSTOP');
      paused.add(port);
    },
    resume(port) {
      child(port).kill('SIGCONT');
      paused.delete(port);
    },
    async portOf(key) {
      const awake = ports.find((port) => !paused.has(port));
      if (awake === undefined) throw new Error('every cluster node is paused');
      return ask(awake, async (client) => {
        const slot = Number(await client.cluster('KEYSLOT', key));
        const ranges = /** @type {[number, number, [string, number]][]} */ (
          await client.cluster('SLOTS')
        );
        const owner = ranges.find(([first, last]) => first <= slot && slot <= last);
        if (!owner) throw new Error(`no node owns slot ${slot}`);
        return owner[2][1];
      });
    },
    stop,
  };
}

/** @param {number} port */
const waitForPort = (port) =>
  poll(() => ask(port, async (client) => (await client.ping()) === 'PONG'));

/** @param {number} port */
const waitForClusterOk = (port) =>
  poll(() => ask(port, async (client) => /cluster_state:ok/.test(await client.cluster('INFO'))));

/**
 * One question to one node on a short-lived connection.
 * @template T
 * @param {number} port
 * @param {(client: Redis) => Promise<T>} question
 * @returns {Promise<T>}
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
