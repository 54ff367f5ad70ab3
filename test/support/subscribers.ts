import { Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';

/**
 * Resolves once `count` connections subscribe to `channel` on the server that owns it now
 * (`portOf`, asked again each try: it moves with a failover), for tests about event delivery
 * after a failover that must not race the subscribers' return. `sharded`: SSUBSCRIBE (Cluster).
 */
export async function subscribersBack(
  portOf: () => Promise<number>,
  channel: string,
  { count, sharded = false, limitMs }: { count: number; sharded?: boolean; limitMs: number },
): Promise<void> {
  const deadline = performance.now() + limitMs;
  for (;;) {
    const server = new Redis(await portOf(), '127.0.0.1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
    });
    const subscribed = await server
      .connect()
      .then(() => server.call('PUBSUB', sharded ? 'SHARDNUMSUB' : 'NUMSUB', channel))
      .then((reply) => Number((reply as [string, number])[1]))
      .catch(() => 0)
      .finally(() => server.disconnect());
    if (subscribed >= count) return;
    if (performance.now() > deadline)
      throw new Error(`${count} subscribers not back on ${channel}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
