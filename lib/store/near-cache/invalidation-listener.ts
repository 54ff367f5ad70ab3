import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { NearCache } from './near-cache.js';

const INVALIDATE_CHANNEL = '__redis__:invalidate';

/**
 * Keeps the near cache exact with Redis server-assisted invalidation: `CLIENT TRACKING` in
 * broadcast mode on the session key prefixes, on the connection the sessions are read through,
 * redirected to a subscriber connection of our own (RESP2, where invalidations arrive as
 * `__redis__:invalidate` messages). NOLOOP: this process's own writes invalidate its cache
 * directly (near-cached.backend.ts), before they are sent.
 *
 * The cache is on only while both connections are up, tracking points at the current
 * subscriber, and the subscriber answered its last heartbeat in time; it is cleared whenever
 * that stops being true and again when it starts being true, so nothing read before a gap
 * survives it.
 */
export class InvalidationListener {
  private readonly logger = new Logger('TenantSession');
  private readonly subscriber: Redis;
  private subscriberId?: number;
  private syncing?: Promise<void>;
  private heartbeat?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly client: Redis,
    private readonly prefixes: string[],
    private readonly cache: NearCache,
    private readonly heartbeatMs: number,
    /** Told how many keys each invalidation named (telemetry). */
    private readonly invalidated: (keys: number) => void,
  ) {
    this.subscriber = client.duplicate({
      protocol: 2,
      lazyConnect: true,
      enableOfflineQueue: true,
      autoResubscribe: false,
      maxRetriesPerRequest: null,
      commandTimeout: undefined,
    });
  }

  start(): void {
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('messageBuffer', (channel: Buffer, keys: Buffer[] | null) => {
      if (channel.toString() !== INVALIDATE_CHANNEL) return;
      // No keys: the whole keyspace went (FLUSHALL, FLUSHDB).
      if (!Array.isArray(keys)) return this.cache.clear();
      for (const key of keys) this.cache.invalidate(key.toString());
      this.invalidated(keys.length);
    });
    this.client.on('close', () => this.cache.disable());
    this.client.on('ready', () => void this.sync());
    this.subscriber.on('close', () => {
      this.subscriberId = undefined;
      this.cache.disable();
    });
    this.subscriber.on('ready', () => void this.listen());
    this.subscriber.connect().catch(() => undefined);
    this.heartbeat = setInterval(() => void this.beat(), this.heartbeatMs);
    this.heartbeat.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    this.cache.disable();
    this.subscriber.disconnect();
  }

  /**
   * A fresh subscriber connection: learn its id (before subscribing, after which only
   * (UN)SUBSCRIBE and PING are allowed), subscribe, then point tracking at it.
   */
  private async listen(): Promise<void> {
    try {
      const id = Number(await this.subscriber.client('ID'));
      await this.subscriber.subscribe(INVALIDATE_CHANNEL);
      this.subscriberId = id;
    } catch (error) {
      this.logger.warn(
        `Near cache off: cannot listen for invalidations (${(error as Error).message})`,
      );
      return;
    }
    await this.sync();
  }

  /** Points tracking at the subscriber once both are up; then the cache may serve. */
  private sync(): Promise<void> {
    this.syncing ??= this.trySync().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private async trySync(): Promise<void> {
    const id = this.subscriberId;
    if (this.closed || id === undefined || this.client.status !== 'ready') return;
    try {
      this.cache.disable();
      const prefixes = this.prefixes.flatMap((prefix) => ['PREFIX', prefix]);
      // Switching the redirect or the prefixes needs tracking off first.
      await this.client.call('CLIENT', 'TRACKING', 'OFF');
      await this.client.call(
        'CLIENT',
        'TRACKING',
        'ON',
        'REDIRECT',
        String(id),
        'BCAST',
        ...prefixes,
        'NOLOOP',
      );
      if (id === this.subscriberId) this.cache.enable();
    } catch (error) {
      this.logger.warn(`Near cache off until Redis answers again (${(error as Error).message})`);
      this.cache.disable();
    }
  }

  /**
   * A frozen or cut-off server does not close connections: a subscriber that stops answering
   * PING within the heartbeat turns the cache off (so requests meet Redis and its 503s), and
   * the first answer after that turns it back on, after any invalidation queued before it.
   */
  private async beat(): Promise<void> {
    if (this.subscriber.status !== 'ready' || this.subscriberId === undefined) return;
    const timeout = new Promise<false>((resolve) =>
      setTimeout(() => resolve(false), this.heartbeatMs).unref(),
    );
    const answered = await Promise.race([
      this.subscriber.ping().then(
        () => true,
        () => false,
      ),
      timeout,
    ]);
    if (!answered) return this.cache.disable();
    if (!this.cache.enabled) await this.sync();
  }
}
