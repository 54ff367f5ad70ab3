import { Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';

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
async function countSubscribers(port: number, channel: string, sharded: boolean) {
  const server = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
  return server
    .connect()
    .then(() => server.call('PUBSUB', sharded ? 'SHARDNUMSUB' : 'NUMSUB', channel))
    .then((reply) => Number((reply as [string, number])[1]))
    .catch(() => 0)
    .finally(() => server.disconnect());
}
