// A throwaway three-master Redis Cluster on free loopback ports, built from redis-server child
// processes and `redis-cli --cluster create`. Any one master can be frozen (SIGSTOP) and resumed,
// to fail one shard while the others answer. With `replicas: 1`, each master has a replica, and
// a master killed (SIGKILL) is failed over after `nodeTimeoutMs`.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  askRedis as ask,
  hasEnded,
  pollUntil,
  spawnOnFreePort,
  spawnVerified,
} from './redis-server.mjs';

const run = promisify(execFile);

/**
 * @typedef {object} RedisCluster
 * @property {{ host: string, port: number }[]} nodes the masters at creation (startup nodes for
 *   ioredis)
 * @property {(port: number) => void} pause  Freezes one master (SIGSTOP): its connections stay
 *   open and nothing it owns answers; the cluster does not fail it over (no replicas, and pauses
 *   are far shorter than cluster-node-timeout).
 * @property {(port: number) => void} resume Unfreezes it (SIGCONT); queued commands then run.
 * @property {(key: string) => Promise<number>} portOf the port of the master owning `key`'s slot
 *   (asked of a master that is not paused)
 * @property {(port: number) => Promise<void>} kill SIGKILLs one node; with replicas, resolves
 *   once the cluster promoted its replica and is whole again (cluster_state:ok)
 * @property {(port: number) => Promise<void>} restart starts a killed node again (empty: no
 *   persistence); it rejoins as a replica, and this resolves once it is synced
 * @property {(port: number) => Promise<number>} failover hands one master's slots to its replica
 *   gracefully (CLUSTER FAILOVER sent to the replica, which first catches up); resolves with
 *   the replica's port once it is a master, the cluster is whole and the old master is its
 *   synced replica
 * @property {() => Promise<number[]>} masters the ports of the masters now
 * @property {() => Promise<void>} stop
 */

/**
 * @param {{ replicas?: 0 | 1, nodeTimeoutMs?: number }} [settings]
 * @returns {Promise<RedisCluster>}
 */
export async function startRedisCluster({ replicas = 0, nodeTimeoutMs = 15_000 } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'redis-cluster-'));
  /** @type {number[]} */
  const ports = [];
  /** @type {import('node:child_process').ChildProcess[]} */
  const children = [];
  /** @type {Set<number>} */
  const paused = new Set();
  /** @param {number} port */
  const spawnNode = (port) =>
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
        '--cluster-node-timeout',
        String(nodeTimeoutMs),
      ],
      { stdio: 'ignore' },
    );
  const stop = async () => {
    await Promise.all(
      children.map((child) => {
        if (hasEnded(child)) return undefined;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        return exited;
      }),
    );
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 3 * (1 + replicas); i++) {
      const { port, child } = await spawnOnFreePort(spawnNode);
      ports.push(port);
      children.push(child);
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ]);
    await waitForClusterOk(ports[0]);
    if (replicas) await waitForReplicas(ports, 3);
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
  const masters = async () => {
    const awake = ports.filter((port) => !hasEnded(children[ports.indexOf(port)]));
    return ask(awake[0], async (client) => mastersIn(await client.cluster('NODES')));
  };
  const creationMasters = await masters();
  return {
    nodes: creationMasters.map((port) => ({ host: '127.0.0.1', port })),
    masters,
    async kill(port) {
      const node = child(port);
      const exited = new Promise((resolve) => node.once('exit', resolve));
      node.kill('SIGKILL');
      await exited;
      if (!replicas) return;
      const others = ports.filter((other) => other !== port);
      await poll(async () => {
        const nodes = await ask(others[0], (client) => client.cluster('NODES'));
        return !mastersIn(nodes).includes(port) && mastersIn(nodes).length === 3;
      });
      await waitForClusterOk(others[0]);
    },
    async restart(port) {
      children[ports.indexOf(port)] = await spawnVerified(port, spawnNode);
      await waitForReplicas([port], 1);
    },
    async failover(port) {
      const nodes = await ask(port, (client) => client.cluster('NODES'));
      const replica = replicaOf(nodes, port);
      await ask(replica, (client) => client.cluster('FAILOVER'));
      await poll(async () => {
        const now = mastersIn(await ask(replica, (client) => client.cluster('NODES')));
        return now.includes(replica) && !now.includes(port);
      });
      await waitForClusterOk(replica);
      await waitForReplicas([port], 1);
      return replica;
    },
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
const waitForClusterOk = (port) =>
  poll(() => ask(port, async (client) => /cluster_state:ok/.test(await client.cluster('INFO'))));

/**
 * Waits until every replica among these nodes is linked to its master and synced, and there
 * are at least `count` of them.
 * @param {number[]} ports
 * @param {number} count
 */
const waitForReplicas = (ports, count) =>
  poll(async () => {
    let synced = 0;
    for (const port of ports) {
      const info = await ask(port, (client) => client.info('replication'));
      if (info.includes('role:master')) continue;
      const linked = info.includes('master_link_status:up');
      if (!linked || !info.includes('master_sync_in_progress:0')) return false;
      synced++;
    }
    return synced >= count;
  });

/**
 * The ports of the masters that serve slots, from CLUSTER NODES.
 * @param {string} nodes
 * @returns {number[]}
 */
function mastersIn(nodes) {
  return nodes
    .split('\n')
    .map((line) => line.split(' '))
    .filter(([, , flags, , , , , state, slots]) => {
      return flags?.includes('master') && !flags.includes('fail') && state === 'connected' && slots;
    })
    .map(([, address]) => portIn(address));
}

/**
 * The port in a CLUSTER NODES address (`host:port@busport`).
 * @param {string} address
 */
const portIn = (address) => Number(address.split('@')[0].split(':')[1]);

/**
 * The port of the replica of the master on `port`, from CLUSTER NODES.
 * @param {string} nodes
 * @param {number} port
 * @returns {number}
 */
function replicaOf(nodes, port) {
  const lines = nodes.split('\n').map((line) => line.split(' '));
  const master = lines.find(([, address]) => address && portIn(address) === port);
  const replica = lines.find(
    ([, , flags, masterId]) => flags?.includes('slave') && masterId === master?.[0],
  );
  if (!replica) throw new Error(`no replica of the master on port ${port}`);
  return portIn(replica[1]);
}

/** @param {() => Promise<boolean>} probe */
function poll(probe) {
  return pollUntil(probe, 30_000, 'Redis Cluster did not come up');
}
