import type { Cluster, Redis } from 'ioredis';
import { ThrottledLogger } from '../../util/throttled-logger.js';
import { mastersOf } from '../redis/redis-masters.js';
import type { NearCache } from './near-cache.js';

const INVALIDATE_CHANNEL = '__redis__:invalidate';
/** A Cluster's events after which its masters may have changed. */
const CLUSTER_EVENTS = ['+node', '-node', 'refresh', 'ready'];

/** One server the sessions are read from, and this process's subscriber on it. */
interface TrackedServer {
  /** The connection the sessions are read through there (the client, or a Cluster's node). */
  readonly connection: Redis;
  readonly subscriber: Redis;
  subscriberId?: number;
  /** Tracking on `connection` points at `subscriberId`, since either last (re)connected. */
  tracking: boolean;
  /** Removes the listeners this added to `connection`. */
  readonly detach: () => void;
}

/**
 * Keeps the near cache exact with Redis server-assisted invalidation: `CLIENT TRACKING` in
 * broadcast mode on the session key prefixes, on the connection the sessions are read through,
 * redirected to a subscriber connection of our own on the same server (RESP2, where
 * invalidations arrive as `__redis__:invalidate` messages). On a Cluster, every master: tracking
 * and its redirect are per server. NOLOOP: this process's own writes invalidate its cache
 * directly (near-cached-session-keys.ts), before they are sent.
 *
 * The cache is on only while, on every master, both connections are up, tracking points at the
 * current subscriber, and every subscriber answered its last heartbeat in time; it is cleared
 * whenever that stops being true (a connection closed, a heartbeat missed, the Cluster's masters
 * changed) and again when it starts being true, so nothing read before a gap survives it. A
 * master that refuses tracking keeps the cache off.
 */
export class InvalidationListener {
  private readonly log = new ThrottledLogger('TenantSession', 60_000);
  /** By server address. */
  private readonly servers = new Map<string, TrackedServer>();
  /** Bumped by everything that may have lost an invalidation: a sync that saw it never enables. */
  private epoch = 0;
  private syncing?: Promise<void>;
  private syncAgain = false;
  private heartbeat?: NodeJS.Timeout;
  private closed = false;
  /** Removes the listeners this added to a Cluster client (the app's, which may outlive it). */
  private detachCluster?: () => void;

  constructor(
    private readonly client: Redis | Cluster,
    private readonly prefixes: string[],
    private readonly cache: NearCache,
    private readonly heartbeatMs: number,
    /** Told how many keys each invalidation named (telemetry). */
    private readonly invalidated: (keys: number) => void,
  ) {}

  start(): void {
    if (this.client.isCluster) {
      // A failover or a resharding changes the masters; a node's own connection closing is
      // heard on the connection (see `track`).
      const changed = () => {
        if (!this.sameMasters()) this.lost();
        void this.sync();
      };
      for (const event of CLUSTER_EVENTS) this.client.on(event, changed);
      this.detachCluster = () => {
        for (const event of CLUSTER_EVENTS) this.client.off(event, changed);
      };
    }
    void this.sync();
    this.heartbeat = setInterval(() => void this.beat(), this.heartbeatMs);
    this.heartbeat.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    this.detachCluster?.();
    this.cache.disable();
    for (const server of this.servers.values()) this.forget(server);
    this.servers.clear();
  }

  /** Something may have lost an invalidation: the cache is off until the next full sync. */
  private lost(): void {
    this.epoch++;
    this.cache.disable();
  }

  /** Brings tracking to every master; runs again when asked during a run. */
  private sync(): Promise<void> {
    this.syncAgain = true;
    this.syncing ??= this.syncUntilSettled().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private async syncUntilSettled(): Promise<void> {
    while (this.syncAgain && !this.closed) {
      this.syncAgain = false;
      await this.trySync();
    }
  }

  private async trySync(): Promise<void> {
    const epoch = this.epoch;
    const masters = mastersOf(this.client);
    const current = new Set(masters.map(addressOf));
    for (const [address, server] of this.servers) {
      if (!current.has(address)) {
        this.forget(server);
        this.servers.delete(address);
      }
    }
    if (masters.length === 0) return this.cache.disable();
    // Every master's subscriber connects at once; one not ready yet syncs again when it is.
    for (const server of masters.map((connection) => this.track(connection))) {
      if (!server.tracking && !(await this.pointTracking(server))) return;
      if (this.closed) return;
    }
    const everywhere = [...this.servers.values()].every((server) => server.tracking);
    if (epoch === this.epoch && everywhere && this.sameMasters() && !this.cache.enabled) {
      this.cache.enable();
    }
  }

  /**
   * Points tracking on a server's connection at its subscriber, when both are up; false when the
   * server refused (the cache stays off: a master that cannot track).
   */
  private async pointTracking(server: TrackedServer): Promise<boolean> {
    const { connection } = server;
    const id = server.subscriberId;
    // A Cluster's node connections connect on first use: this is one.
    if (connection.status === 'wait') connection.connect().catch(() => undefined);
    // Not up yet: its `ready` syncs again.
    if (id === undefined || connection.status !== 'ready') return true;
    try {
      // Switching the redirect or the prefixes needs tracking off first.
      await connection.call('CLIENT', 'TRACKING', 'OFF');
      await connection.call(
        'CLIENT',
        'TRACKING',
        'ON',
        'REDIRECT',
        String(id),
        'BCAST',
        ...this.prefixes.flatMap((prefix) => ['PREFIX', prefix]),
        'NOLOOP',
      );
    } catch (error) {
      this.log.warn(
        `Near cache off: Redis at ${addressOf(connection)} does not track keys for it ` +
          `(${(error as Error).message})`,
      );
      this.cache.disable();
      return false;
    }
    if (server.subscriberId === id && this.servers.get(addressOf(connection)) === server) {
      server.tracking = true;
    }
    return true;
  }

  /** The tracked server of a master's connection, set up on first sight. */
  private track(connection: Redis): TrackedServer {
    const address = addressOf(connection);
    const known = this.servers.get(address);
    // A Cluster replaces a node's connection (and our subscriber, without reconnects, ends).
    if (known?.connection === connection && known.subscriber.status !== 'end') return known;
    if (known) this.forget(known);
    const subscriber = connection.duplicate({
      protocol: 2,
      lazyConnect: true,
      enableOfflineQueue: true,
      autoResubscribe: false,
      maxRetriesPerRequest: null,
      commandTimeout: undefined,
      readOnly: false,
    });
    const onClose = () => {
      server.tracking = false;
      this.lost();
    };
    const onReady = () => void this.sync();
    connection.on('close', onClose);
    connection.on('ready', onReady);
    const server: TrackedServer = {
      connection,
      subscriber,
      tracking: false,
      detach: () => {
        connection.off('close', onClose);
        connection.off('ready', onReady);
      },
    };
    this.servers.set(address, server);
    subscriber.on('error', () => undefined);
    subscriber.on('messageBuffer', (channel: Buffer, keys: Buffer[] | null) => {
      if (channel.toString() !== INVALIDATE_CHANNEL) return;
      // No keys: the whole keyspace went (FLUSHALL, FLUSHDB).
      if (!Array.isArray(keys)) return this.cache.clear();
      for (const key of keys) this.cache.invalidate(key.toString());
      this.invalidated(keys.length);
    });
    subscriber.on('close', () => {
      server.subscriberId = undefined;
      onClose();
    });
    subscriber.on('ready', () => void this.listen(server));
    subscriber.connect().catch(() => undefined);
    return server;
  }

  private forget(server: TrackedServer): void {
    server.detach();
    server.subscriber.removeAllListeners();
    server.subscriber.on('error', () => undefined);
    server.subscriber.disconnect();
  }

  /**
   * A fresh subscriber connection: learn its id (before subscribing, after which only
   * (UN)SUBSCRIBE and PING are allowed), subscribe, then point tracking at it.
   */
  private async listen(server: TrackedServer): Promise<void> {
    try {
      const id = Number(await server.subscriber.client('ID'));
      await server.subscriber.subscribe(INVALIDATE_CHANNEL);
      server.subscriberId = id;
      server.tracking = false;
    } catch (error) {
      if (!this.closed) {
        this.log.warn(
          `Near cache off: cannot listen for invalidations (${(error as Error).message})`,
        );
      }
      return;
    }
    await this.sync();
  }

  /** Whether the masters now are the servers tracked (a Cluster's may change). */
  private sameMasters(): boolean {
    const masters = mastersOf(this.client);
    return (
      masters.length === this.servers.size &&
      masters.every(
        (connection) => this.servers.get(addressOf(connection))?.connection === connection,
      )
    );
  }

  /**
   * A frozen or cut-off server does not close connections: a subscriber that stops answering
   * PING within the heartbeat turns the cache off (so requests meet Redis and its 503s), and
   * the first round in which all answer turns it back on, after any invalidation queued before.
   */
  private async beat(): Promise<void> {
    const listening = [...this.servers.values()].filter(
      (server) => server.subscriberId !== undefined,
    );
    const timeout = new Promise<false>((resolve) =>
      setTimeout(() => resolve(false), this.heartbeatMs).unref(),
    );
    const answered = (server: TrackedServer) =>
      Promise.race([
        server.subscriber.ping().then(
          () => true,
          () => false,
        ),
        timeout,
      ]);
    const answers = await Promise.all(listening.map(answered));
    if (answers.includes(false)) return this.lost();
    // Also replaces a subscriber that ended (a Cluster node's does not reconnect by itself).
    if (!this.cache.enabled) await this.sync();
  }
}

/** Which server a connection reaches: its address, or Sentinel's name for the primary. */
function addressOf({ options }: Redis): string {
  return options.sentinels ? `${options.name} (Sentinel)` : `${options.host}:${options.port}`;
}
