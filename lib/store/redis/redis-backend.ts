import type { Cluster, Redis } from 'ioredis';
import { SessionStoreUnavailableException } from '../../errors/session-store-unavailable.exception.js';
import type { TenantSessionDurability } from '../../options/tenant-session-options.interface.js';
import type { SessionTelemetry } from '../../telemetry/session-telemetry.js';
import type { OperationBudget } from '../operation-budget.js';
import { withDeadline } from '../../util/deadline.js';
import { READ } from '../session-scripts.js';
import { LEASE } from '../scripts.js';
import type {
  BackendLifecycle,
  ServerMemory,
  SessionBackend,
} from '../session-backend.interface.js';
import type { SessionKeyStore } from '../session-key-store.interface.js';
import type { UserIndexStore } from '../user-index-store.interface.js';
import { mastersOf } from './redis-masters.js';
import { serverMemory } from './redis-info.js';
import { RedisRoundTrips } from './redis-round-trips.js';
import { RedisServerWatch } from './redis-server-watch.js';
import { RedisSessionKeys } from './redis-session-keys.js';
import { RedisUserIndexes } from './redis-user-indexes.js';
import { ReplicaPolicy } from './replica-policy.js';

/** The scripts requests run (by digest): loaded on every server as soon as it is reachable. */
const REQUEST_SCRIPTS = [READ, LEASE];

/** How the Redis backend is put together; a decorator (the near cache) may wrap its stores. */
export interface RedisBackendSettings {
  /** The app's own client, which it closes itself; otherwise the module closes it. */
  ownsClient: boolean;
  allowUnsafeEviction: boolean;
  durability?: TenantSessionDurability;
  /** This Redis's deployment name, and where its round trips are timed and traced. */
  deployment: string;
  telemetry: SessionTelemetry;
  /**
   * Wraps the key and index stores (the near cache); the plain ones otherwise. `now`: the
   * backend's estimate of the Redis clock (see BackendLifecycle.now).
   */
  decorate?: (
    stores: { keys: SessionKeyStore; indexes: UserIndexStore },
    now: () => number,
  ) => {
    keys: SessionKeyStore;
    indexes: UserIndexStore;
    close(): Promise<void>;
  };
}

/**
 * Sessions in Redis through one shared ioredis connection (or cluster), put together from its
 * parts: the round-trip runner every command goes through (budget, timeout, 503), the server
 * watch (clock, memory policy), the replica policy (what waits for replicas), and the key and
 * index stores.
 */
export class RedisBackend implements SessionBackend, BackendLifecycle {
  readonly keys: SessionKeyStore;
  readonly indexes: UserIndexStore;
  readonly lifecycle: BackendLifecycle = this;
  private readonly watch: RedisServerWatch;
  private readonly replicas: ReplicaPolicy;
  private readonly trips: RedisRoundTrips;
  private readonly closeDecorator?: () => Promise<void>;

  constructor(
    /** The module's connection; session events are published through it too. */
    readonly pubSubClient: Redis | Cluster,
    private readonly settings: RedisBackendSettings,
  ) {
    const client = pubSubClient;
    this.watch = new RedisServerWatch(client, settings.allowUnsafeEviction);
    this.replicas = new ReplicaPolicy(client, settings.durability);
    this.trips = new RedisRoundTrips(
      client,
      this.replicas,
      () => this.watch.refusal,
      settings.telemetry,
      settings.deployment,
    );
    const plain = {
      keys: new RedisSessionKeys(this.trips),
      indexes: new RedisUserIndexes(this.trips, (redisMs) => this.watch.observed(redisMs)),
    };
    const decorated = settings.decorate?.(plain, () => this.now());
    this.keys = decorated?.keys ?? plain.keys;
    this.indexes = decorated?.indexes ?? plain.indexes;
    this.closeDecorator = decorated?.close;
  }

  now(): number {
    return this.watch.latest();
  }

  earliestNow(): number {
    return this.watch.earliest();
  }

  /**
   * Start-up: the memory policy (throws UnsafeEvictionPolicyError), the clock, the scripts;
   * within `timeoutMs` in all, since the clients the module creates have no per-command timeout
   * (a request's round trips are bounded by its budget instead): a Redis that froze once
   * connected fails the start-up rather than holding it.
   */
  async checkAtStartup(timeoutMs: number): Promise<void> {
    const checks = async () => {
      await this.watch.checkAtStartup();
      await this.trips.scripts.load(mastersOf(this.pubSubClient), REQUEST_SCRIPTS);
      await this.replicas.reconnected();
    };
    await withDeadline(
      checks(),
      timeoutMs,
      () => new Error(`Redis did not answer the start-up checks within ${timeoutMs} ms`),
    );
  }

  /** From now on, checks again on every reconnect and every 30 s. */
  watchServers(): void {
    this.watch.start(() => {
      void this.replicas.reconnected().catch(() => undefined);
      void this.trips.scripts
        .load(mastersOf(this.pubSubClient), REQUEST_SCRIPTS)
        .catch(() => undefined);
    });
  }

  async ready(timeoutMs: number): Promise<boolean> {
    const client = this.pubSubClient;
    if (client.status === 'ready') return true;
    if (client.status === 'wait') client.connect().catch(() => undefined);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        client.off('ready', onReady);
        resolve(ok);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      client.once('ready', onReady);
    });
  }

  /**
   * PING on the connection the sessions use: the one server, the master a Sentinel client is
   * connected to, or every master of a Cluster (a Cluster with one master down cannot serve
   * that master's sessions). Fails like any request would: 503 reasons, within the budget.
   */
  async ping(budget: OperationBudget): Promise<void> {
    await this.trips.run(
      'ping',
      async () => {
        const masters = mastersOf(this.pubSubClient);
        if (masters.length === 0) {
          throw new SessionStoreUnavailableException('no Redis Cluster master is known');
        }
        await Promise.all(masters.map((node) => node.ping()));
      },
      budget,
    );
  }

  /** `INFO memory` of every master, in one round trip each, side by side. */
  async memory(budget: OperationBudget): Promise<ServerMemory[]> {
    return this.trips.run(
      'server.memory',
      () => Promise.all(mastersOf(this.pubSubClient).map(serverMemory)),
      budget,
    );
  }

  async close(): Promise<void> {
    await this.closeDecorator?.();
    this.watch.stop();
    if (!this.settings.ownsClient) return;
    await this.pubSubClient.quit().catch(() => undefined);
    // QUIT leaves a Sentinel client's failover detector connected to the sentinels.
    this.pubSubClient.disconnect();
  }
}
