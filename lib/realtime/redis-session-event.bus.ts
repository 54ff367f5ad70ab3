import type { Cluster, Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { LruCache } from '../util/lru-cache.js';
import { LocalSessionEventBus } from './local-session-event.bus.js';
import { decodeEvent, encodeEvent, eventsChannel, type SessionEvent } from './session-event.js';

/** How often events that could not be sent are tried again. */
const RETRY_INTERVAL_MS = 1000;
/** Most events kept for sending again; the oldest go first (their sessions are checked anyway). */
const OUTBOX_LIMIT = 1000;
/** Event ids remembered to drop duplicates (an event sent again after a send that timed out). */
const SEEN_LIMIT = 10_000;
/** On a Cluster, ioredis resubscribes shard channels just after it says its subscribers are ready. */
const CLUSTER_RESUBSCRIBE_SETTLE_MS = 500;
/** At most one warning per this interval: an outage fails every attempt. */
const REPORT_INTERVAL_MS = 10_000;

/**
 * Session events shared by every instance of the app through Redis pub/sub, on the channel
 * `tenant-session:<app>:events`: PUBLISH/SUBSCRIBE on a single server (or through Sentinel),
 * SPUBLISH/SSUBSCRIBE on a Cluster (sharded pub/sub, Redis 7+: the channel lives on one shard
 * instead of being broadcast across the cluster bus).
 *
 * Publishing goes through the module's connection; receiving through a dedicated one (a
 * duplicate of it), since a subscribed connection can send nothing else. When that connection
 * drops it subscribes again as soon as it is back, and then tells `onResubscribed` listeners,
 * which re-check what they hold against Redis: events published in between are gone for good.
 * An event that cannot be published (Redis away, too slow) is kept and published again every
 * second, in order, until it goes through; receivers drop the duplicates a timeout can cause.
 */
export class RedisSessionEventBus extends LocalSessionEventBus {
  readonly channel: string;
  /** Tells this instance's own messages apart: it delivered them locally already. */
  private readonly origin = randomBytes(9).toString('base64url');
  private readonly sharded: boolean;
  private readonly subscriber: Redis | Cluster;
  private readonly seen = new LruCache<string, true>(SEEN_LIMIT);
  private readonly outbox: string[] = [];
  private retry?: NodeJS.Timeout;
  private flushing = false;
  private subscribedOnce = false;
  private closed = false;
  private lastReport = 0;

  constructor(
    private readonly client: Redis | Cluster,
    appName: string,
    private readonly timeoutMs: number,
  ) {
    super();
    this.channel = eventsChannel(appName);
    this.sharded = client.isCluster;
    this.subscriber = this.sharded
      ? (client as Cluster).duplicate([], { shardedSubscribers: true, lazyConnect: true })
      : (client as Redis).duplicate({
          lazyConnect: true,
          // Resubscribed by `listen()` below, so the re-check runs once it is in place.
          autoResubscribe: false,
          enableOfflineQueue: true,
          maxRetriesPerRequest: null,
          connectionName: `${(client as Redis).options.connectionName || 'tenant-session'}:events`,
        });
  }

  /** Connects the subscriber; it keeps reconnecting (the client's retry strategy) until closed. */
  start(): void {
    const subscriber = this.subscriber;
    subscriber.on('error', (error: Error) => this.report(`connection error: ${error.message}`));
    if (this.sharded) {
      subscriber.on('smessage', (channel: string, message: string) =>
        this.receive(channel, message),
      );
      // The first subscription once the cluster is reachable (ioredis keeps trying until then).
      subscriber.on('ready', () => void (this.subscribedOnce || this.listen()));
      // After a node of the cluster came back or the slots moved, ioredis subscribed anew.
      subscriber.on('subscribersReady', () => {
        if (!this.subscribedOnce) return;
        setTimeout(() => this.closed || this.resubscribed(), CLUSTER_RESUBSCRIBE_SETTLE_MS);
      });
      subscriber.connect().catch(() => undefined);
    } else {
      subscriber.on('message', (channel: string, message: string) =>
        this.receive(channel, message),
      );
      subscriber.on('ready', () => void this.listen());
      subscriber.connect().catch(() => undefined); // reconnects by itself; 'ready' subscribes
    }
  }

  /**
   * Resolves once the first subscription is in place (true), or after `timeoutMs` (false): the
   * module waits for it at start-up, so that an app serving requests also hears events.
   */
  subscribed(timeoutMs: number): Promise<boolean> {
    if (this.subscribedOnce) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        stop();
        resolve(false);
      }, timeoutMs);
      const stop = this.onResubscribed(() => {
        clearTimeout(timer);
        stop();
        resolve(true);
      });
    });
  }

  override async publish(event: SessionEvent): Promise<void> {
    this.deliver(event, false);
    const message = encodeEvent(event, this.origin);
    // Behind events still waiting, so that every receiver gets them in order.
    if (this.outbox.length > 0) return this.keep(message);
    try {
      await this.send(message);
    } catch (error) {
      this.report(`publishing a session event failed (${describe(error)}); retrying`);
      this.keep(message);
    }
  }

  override async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    this.subscriber.disconnect();
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    try {
      if (this.sharded) await (this.subscriber as Cluster).ssubscribe(this.channel);
      else await (this.subscriber as Redis).subscribe(this.channel);
    } catch (error) {
      if (this.closed) return;
      this.report(`subscribing to session events failed (${describe(error)}); retrying`);
      setTimeout(() => {
        if (this.sharded || (this.subscriber as Redis).status === 'ready') void this.listen();
      }, RETRY_INTERVAL_MS).unref();
      return;
    }
    this.subscribedOnce = true;
    this.resubscribed();
  }

  private receive(channel: string, message: string): void {
    if (channel !== this.channel) return;
    const decoded = decodeEvent(message);
    if (!decoded) return this.report('ignoring a malformed message on the session events channel');
    if (decoded.from === this.origin || this.seen.get(decoded.id)) return;
    this.seen.set(decoded.id, true);
    this.deliver(decoded.event, true);
  }

  private send(message: string): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const sent = this.sharded
      ? (this.client as Cluster).spublish(this.channel, message)
      : (this.client as Redis).publish(this.channel, message);
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out')), this.timeoutMs);
    });
    return Promise.race([sent, deadline]).finally(() => clearTimeout(timer));
  }

  private keep(message: string): void {
    if (this.outbox.length >= OUTBOX_LIMIT) {
      this.outbox.shift();
      this.report('dropped the oldest unsent session event (too many waiting)');
    }
    this.outbox.push(message);
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.retry || this.closed) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.flush();
    }, RETRY_INTERVAL_MS);
    this.retry.unref();
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.outbox.length > 0 && !this.closed) {
        try {
          await this.send(this.outbox[0]);
        } catch {
          return this.scheduleRetry();
        }
        this.outbox.shift();
      }
    } finally {
      this.flushing = false;
    }
  }

  private report(message: string): void {
    if (this.closed || Date.now() - this.lastReport < REPORT_INTERVAL_MS) return;
    this.lastReport = Date.now();
    this.logger.warn(`Session events: ${message}`);
  }
}

/** A failure's kind for logs; Redis error texts may carry command arguments (event JSON). */
function describe(error: unknown): string {
  const message = String((error as Error | undefined)?.message ?? error);
  if (/timed out/i.test(message)) return 'timed out';
  if ((error as Error | undefined)?.name === 'ReplyError') return message.split(' ', 1)[0];
  return 'Redis is unreachable';
}
