// Throwaway redis-sentinels on free loopback ports. `startRedisSentinel`: one sentinel watching
// one master that it never fails over (no replicas, and a down-after far longer than any test),
// so a client that asks it for the master keeps being sent to the same server, whether that
// server answers or not. `startSentinelGroup`: a primary, its replica and three sentinels that
// fail the primary over within seconds, killed (SIGKILL) or on request (SENTINEL FAILOVER).
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  askRedis as ask,
  hasEnded,
  pollUntil,
  spawnOnFreePort,
  startRedisServer,
} from './redis-server.mjs';

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
  const sentinel = await spawnSentinel(masterPort, name, { quorum: 1, downAfterMs: 600_000 });
  return { name, sentinels: [{ host: '127.0.0.1', port: sentinel.port }], stop: sentinel.stop };
}

/**
 * @typedef {object} SentinelGroup
 * @property {string} name the master's name, for ioredis's `name` option
 * @property {{ host: string, port: number }[]} sentinels for ioredis's `sentinels` option
 * @property {import('./redis-server.mjs').RedisServer[]} servers the primary and its replicas
 * @property {() => Promise<number>} primaryPort the port the sentinels name as the primary now
 * @property {() => Promise<number>} kill SIGKILLs the primary; resolves with its port once a
 *   replica was promoted and the sentinels name it
 * @property {() => Promise<number>} failover SENTINEL FAILOVER; resolves with the old
 *   primary's port once the sentinels name the new one (the old one follows it within about
 *   10 s, when a sentinel next looks at it)
 * @property {(port: number) => Promise<void>} rejoin restarts a killed server (empty: no
 *   persistence) as a replica of the primary, as its operator would, and resolves once synced
 * @property {() => Promise<void>} settled rejoins every killed server, then resolves once
 *   each one replicates from the primary the sentinels name, in sync
 * @property {() => Promise<void>} stop
 */

/**
 * A primary with `replicas` replicas and three sentinels (quorum 2) that take `downAfterMs`
 * to call a silent primary down. `serverArgs` go to every redis-server.
 * @param {{ replicas?: number, downAfterMs?: number, serverArgs?: string[], name?: string }} [settings]
 * @returns {Promise<SentinelGroup>}
 */
export async function startSentinelGroup({
  replicas = 1,
  downAfterMs = 1000,
  serverArgs = [],
  name = 'sessions-primary',
} = {}) {
  // A replica writes the data it syncs to disk: keep that out of the working directory.
  const dir = await mkdtemp(join(tmpdir(), 'redis-sentinel-group-'));
  const args = ['--dir', dir, ...serverArgs];
  const primary = await startRedisServer(args);
  /** @type {import('./redis-server.mjs').RedisServer[]} */
  const servers = [primary];
  /** @type {{ port: number, stop: () => Promise<void> }[]} */
  const sentinels = [];
  const stop = async () => {
    await Promise.all(sentinels.map((sentinel) => sentinel.stop()));
    await Promise.all(servers.map((server) => server.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < replicas; i++) {
      servers.push(
        await startRedisServer([...args, '--replicaof', '127.0.0.1', String(primary.port)]),
      );
    }
    for (let i = 0; i < 3; i++) {
      sentinels.push(await spawnSentinel(primary.port, name, { quorum: 2, downAfterMs }));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const addresses = sentinels.map(({ port }) => ({ host: '127.0.0.1', port }));
  /** @param {number} port */
  const server = (port) => {
    const found = servers.find((candidate) => candidate.port === port);
    if (!found) throw new Error(`no server of this group on port ${port}`);
    return found;
  };
  const primaryPort = () => askSentinels(sentinels, name);
  const group = {
    name,
    sentinels: addresses,
    servers,
    primaryPort,
    async kill() {
      const old = await primaryPort();
      await server(old).stop();
      await poll(async () => (await primaryPort()) !== old, 30_000, 'no replica was promoted');
      return old;
    },
    async failover() {
      const old = await primaryPort();
      // A forced failover is abandoned after failover-timeout when the replica it picked is slow
      // to take over (a loaded machine): ask again, as an operator would, at most three times.
      for (let attempt = 1; ; attempt++) {
        await poll(
          () => ask(sentinels[0].port, (client) => client.call('SENTINEL', 'FAILOVER', name)),
          30_000,
          'SENTINEL FAILOVER was refused',
        );
        try {
          await poll(
            async () => (await primaryPort()) !== old,
            15_000,
            'the primary did not change',
          );
          return old;
        } catch (error) {
          if (attempt === 3) throw error;
        }
      }
    },
    async rejoin(port) {
      await server(port).start();
      const primary = await primaryPort();
      await ask(port, (client) => client.replicaof('127.0.0.1', primary));
      await poll(() => replicatesFrom(port, primaryPort), 30_000, `${port} never rejoined`);
    },
    async settled() {
      for (const killed of servers.filter((candidate) => !candidate.running)) {
        await group.rejoin(killed.port);
      }
      await poll(
        async () => {
          const current = await primaryPort();
          const others = servers.filter((candidate) => candidate.port !== current);
          for (const other of others) {
            if (!(await replicatesFrom(other.port, primaryPort))) return false;
          }
          return true;
        },
        60_000,
        'the group did not settle',
      );
    },
    stop,
  };
  await group.settled();
  // Every sentinel must know the others and the replicas before a failover can be agreed on.
  await poll(
    async () => {
      for (const sentinel of sentinels) {
        const known = await ask(sentinel.port, async (client) => [
          /** @type {unknown[]} */ (await client.call('SENTINEL', 'SENTINELS', name)).length,
          /** @type {unknown[]} */ (await client.call('SENTINEL', 'REPLICAS', name)).length,
        ]);
        if (known[0] < 2 || known[1] < replicas) return false;
      }
      return true;
    },
    60_000,
    'the sentinels did not find each other',
  );
  return group;
}

/**
 * Whether the server on `port` replicates from the current primary, linked and synced.
 * @param {number} port
 * @param {() => Promise<number>} primaryPort
 */
async function replicatesFrom(port, primaryPort) {
  const primary = await primaryPort();
  if (primary === port) return false;
  const info = await ask(port, (client) => client.info('replication'));
  return (
    info.includes('role:slave') &&
    info.includes(`master_port:${primary}`) &&
    info.includes('master_link_status:up') &&
    info.includes('master_sync_in_progress:0')
  );
}

/**
 * The primary's port as the sentinels name it (the majority's answer).
 * @param {{ port: number }[]} sentinels
 * @param {string} name
 */
async function askSentinels(sentinels, name) {
  /** @type {Map<number, number>} */
  const votes = new Map();
  for (const sentinel of sentinels) {
    const port = await ask(sentinel.port, async (client) => {
      const address = await client.call('SENTINEL', 'get-master-addr-by-name', name);
      return Number(/** @type {string[]} */ (address)[1]);
    }).catch(() => undefined);
    if (port !== undefined) votes.set(port, (votes.get(port) ?? 0) + 1);
  }
  const [winner] = [...votes].sort((a, b) => b[1] - a[1]);
  if (!winner || winner[1] < 2) throw new Error('the sentinels do not agree on a primary');
  return winner[0];
}

/**
 * A sentinel watching `masterPort`, in a directory of its own (it rewrites its config file).
 * @param {number} masterPort
 * @param {string} name
 * @param {{ quorum: number, downAfterMs: number }} settings
 */
async function spawnSentinel(masterPort, name, { quorum, downAfterMs }) {
  const dir = await mkdtemp(join(tmpdir(), 'redis-sentinel-'));
  const config = join(dir, 'sentinel.conf');
  const { port, child } = await spawnOnFreePort(async (port) => {
    await writeFile(
      config,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${name} 127.0.0.1 ${masterPort} ${quorum}`,
        `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
        // Also the least time between two failovers of the same primary (twice this).
        `sentinel failover-timeout ${name} ${Math.max(3 * downAfterMs, 3000)}`,
        '',
      ].join('\n'),
    );
    return spawn('redis-sentinel', [config], { stdio: 'ignore' });
  }).catch(async (error) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  const stop = async () => {
    if (!hasEnded(child)) {
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
  return { port, stop };
}

/**
 * @param {() => Promise<unknown>} probe
 * @param {number} limitMs
 * @param {string} failure
 */
function poll(probe, limitMs, failure) {
  return pollUntil(probe, limitMs, `Sentinel group: ${failure}`);
}

/**
 * @param {number} port
 * @param {string} name
 */
function waitForMaster(port, name) {
  return pollUntil(
    () =>
      ask(port, async (client) =>
        Array.isArray(await client.call('SENTINEL', 'get-master-addr-by-name', name)),
      ),
    10_000,
    `redis-sentinel did not come up on port ${port}`,
  );
}
