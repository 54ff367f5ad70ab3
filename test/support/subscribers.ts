import { performance } from 'node:perf_hooks';
import { askRedis } from './redis-server.mjs';

/**
 * Resolves once `count` connections subscribe to `channel` on the server that owns it now
 * (`portOf`, asked again each try: it moves with a failover), for tests about event delivery
 * after a failover that must not race the subscribers' return. `sharded`: SSUBSCRIBE (Cluster).
 * `servers`: every server's port, so that a timeout says where the subscribers are instead.
 */
export async function subscribersBack(
  portOf: () => Promise<number>,
  channel: string,
  {
    count,
    sharded = false,
    limitMs,
    servers = () => [],
  }: { count: number; sharded?: boolean; limitMs: number; servers?: () => number[] },
): Promise<void> {
  const deadline = performance.now() + limitMs;
  const subscribersOn = (port: number) => countSubscribers(port, channel, sharded);
  for (;;) {
    const owner = await portOf();
    if ((await subscribersOn(owner)) >= count) return;
    if (performance.now() > deadline) {
      const found = await Promise.all(
        servers().map(async (port) => `${port}: ${await subscribersOn(port)}`),
      );
      throw new Error(
        `${count} subscribers not back on ${channel} at ${owner} (subscribers by port: ${found.join(', ')})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** How many connections subscribe to `channel` on one server (0 when it does not answer). */
function countSubscribers(port: number, channel: string, sharded: boolean): Promise<number> {
  return askRedis(port, (server) =>
    server.call('PUBSUB', sharded ? 'SHARDNUMSUB' : 'NUMSUB', channel),
  ).then(
    (reply) => Number((reply as [string, number])[1]),
    () => 0,
  );
}
