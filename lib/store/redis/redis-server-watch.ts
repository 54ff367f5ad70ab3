import { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import { UnsafeEvictionPolicyError } from '../../errors/unsafe-eviction-policy.error.js';
import { unsafeEvictionPolicy } from './eviction-policy.js';
import { mastersOf } from './redis-masters.js';

/** How often the Redis clock offset and the eviction policy are checked again. */
const RECHECK_INTERVAL_MS = 30_000;

/**
 * What the backend keeps knowing about the servers behind its connection: the Redis clock, as
 * bounds (one never ahead of it dates logins, one never behind it cuts TTLs), and whether a server
 * runs a memory policy that can evict indexes, in which case requests are refused (503) unless
 * the app allowed it. Checked at start-up, on every reconnect (which may land on another server:
 * a failover, a restart with another config) and every 30 s.
 */
export class RedisServerWatch {
  private readonly logger = new Logger('TenantSession');
  /** The Redis clock at the last check, and this process's monotonic clock around it. */
  private synced = { redisMs: 0, sentAt: NaN, receivedAt: NaN };
  /** The latest Redis time a script returned, and this process's monotonic clock then. */
  private seen = { redisMs: -Infinity, at: 0 };
  private refused: string | undefined;
  private recheck?: NodeJS.Timeout;

  constructor(
    private readonly client: Redis | Cluster,
    private readonly allowUnsafeEviction: boolean,
  ) {}

  /**
   * The Redis clock (ms), never ahead of it: the last reading counted as taken when its reply
   * arrived, or a later time a script returned, plus the time since by this process's monotonic
   * clock (a jump of the wall clock, an NTP step, changes nothing). Behind by up to a round trip.
   * This host's clock until the first reading.
   */
  earliest(): number {
    const { redisMs, receivedAt } = this.synced;
    if (Number.isNaN(receivedAt)) return Date.now();
    const here = performance.now();
    return Math.max(redisMs + (here - receivedAt), this.seen.redisMs + (here - this.seen.at));
  }

  /** The Redis clock (ms), never behind it: the last reading counted as taken when it was sent. */
  latest(): number {
    const { redisMs, sentAt } = this.synced;
    if (Number.isNaN(sentAt)) return Date.now();
    return Math.max(redisMs + (performance.now() - sentAt), this.earliest());
  }

  /**
   * A Redis time a script just returned: `earliest` moves up to it (Redis had passed it when the
   * reply arrived), so a login that begins in this process after its revocation answered is
   * dated after it. A single primary only: a Cluster's masters each have their own clock, and
   * the estimate follows one of them.
   */
  observed(redisMs: number): void {
    if (this.client.isCluster || redisMs <= this.earliest()) return;
    this.seen = { redisMs, at: performance.now() };
  }

  /** Why requests are refused now, if they are. */
  get refusal(): string | undefined {
    return this.refused;
  }

  /**
   * Start-up check: throws UnsafeEvictionPolicyError when a server can evict indexes (unless
   * allowed). Later checks make requests answer 503 instead.
   */
  async checkAtStartup(): Promise<void> {
    const unsafe = await this.unsafeNode();
    if (unsafe && !this.allowUnsafeEviction) throw UnsafeEvictionPolicyError.create(...unsafe);
    await this.syncClock();
  }

  /**
   * Checks again every 30 s and on every reconnect, telling `onReady` of the reconnect too.
   * Started after the start-up check, which reports for itself.
   */
  start(onReady: () => void): void {
    this.recheck = setInterval(() => void this.check(), RECHECK_INTERVAL_MS).unref();
    this.client.on('ready', () => {
      onReady();
      void this.check();
    });
  }

  stop(): void {
    clearInterval(this.recheck);
  }

  private async check(): Promise<void> {
    try {
      await this.syncClock();
      const unsafe = await this.unsafeNode();
      const refusal =
        unsafe && !this.allowUnsafeEviction
          ? UnsafeEvictionPolicyError.create(...unsafe)
          : undefined;
      if (refusal && !this.refused) this.logger.error(`${refusal.message} Refusing requests.`);
      if (!refusal && this.refused) this.logger.log('Redis memory policy is safe again; serving.');
      this.refused = refusal && 'Redis can evict session indexes (maxmemory-policy)';
    } catch {
      // Unreachable right now: requests say so themselves; the next ready event checks again.
    }
  }

  /**
   * Reads TIME. It replaces the reading, also downwards: the two clocks may drift apart between
   * readings; so does `seen`, which the new reading covers.
   */
  private async syncClock(): Promise<void> {
    const sentAt = performance.now();
    const [seconds, micros] = await mastersOf(this.client)[0].time();
    const redisMs = Number(seconds) * 1000 + Number(micros) / 1000;
    this.synced = { redisMs, sentAt, receivedAt: performance.now() };
    this.seen = { redisMs: -Infinity, at: 0 };
  }

  private async unsafeNode(): Promise<[node: string, policy: string] | undefined> {
    for (const node of mastersOf(this.client)) {
      const policy = unsafeEvictionPolicy(await node.info('memory'));
      if (policy) return [`${node.options.host}:${node.options.port}`, policy];
    }
    return undefined;
  }
}
