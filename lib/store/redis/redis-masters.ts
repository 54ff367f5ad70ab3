import type { Cluster, Redis } from 'ioredis';

/** The connections to every master: the one server (or Sentinel's primary), or a Cluster's. */
export function mastersOf(client: Redis | Cluster): Redis[] {
  return client.isCluster ? (client as Cluster).nodes('master') : [client as Redis];
}
