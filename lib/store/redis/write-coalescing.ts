import type { Cluster, Redis } from 'ioredis';

/**
 * While commands await their replies, the next ones sent in the same turn of the event loop
 * leave in one write: the connection's socket is corked and uncorked once the turn's I/O
 * callbacks have run (setImmediate), so the GETEXs of requests that arrive together cost Redis
 * and the kernel one write, not one each. A command on an idle connection leaves at once. Not
 * ioredis's `enableAutoPipelining`: that keeps one batch in flight per connection, so a command
 * waits for the previous batch's replies, a whole round trip more at a light load on a Redis a
 * network hop away. Here batches never wait for each other.
 *
 * A single Redis (or Sentinel's primary) only: a Cluster's commands go out on one connection per
 * node, and are left as they are.
 */
export class WriteCoalescing {
  /** The single connection to hold writes on; none for a Cluster (decided once, here). */
  private readonly connection: Redis | undefined;
  private corked = false;
  /** Commands sent and not yet answered (or given up on). */
  private awaited = 0;

  constructor(client: Redis | Cluster) {
    this.connection = client.isCluster ? undefined : (client as Redis);
  }

  /**
   * Call as a command is about to be sent. On an idle connection it leaves at once: nothing is
   * there to share its write, and a light load should not wait for the end of the turn. On a
   * busy one, writes are held until the end of this event-loop turn.
   */
  sending(): void {
    if (this.awaited++ > 0) this.hold();
  }

  /** Call once per `sending`, when that command's reply (or its failure) is in. */
  answered(): void {
    this.awaited--;
  }

  private hold(): void {
    if (this.corked || !this.connection) return;
    const { stream, status } = this.connection;
    if (status !== 'ready' || !stream) return;
    stream.cork();
    this.corked = true;
    setImmediate(() => {
      this.corked = false;
      stream.uncork();
    });
  }
}
