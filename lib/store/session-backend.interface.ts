import type { Cluster, Redis } from 'ioredis';
import type { OperationBudget } from './operation-budget.js';
import type { SessionKeyStore } from './session-key-store.interface.js';
import type { UserIndexStore } from './user-index-store.interface.js';

/** One Redis server's memory, as `INFO memory` reports it. */
export interface ServerMemory {
  /** `host:port` of the server (a Cluster master, or the one server). */
  server: string;
  usedBytes: number;
  /** `maxmemory`; 0: no limit. */
  maxBytes: number;
  /** `maxmemory-policy`. */
  policy: string;
}

/** What a backend is, beside its keys and indexes: a clock, a connection, a life. */
export interface BackendLifecycle {
  /**
   * The store's clock (ms): the Redis server's, not this host's. Never behind it, so a TTL cut
   * at a session's deadline ends by the deadline.
   */
  now(): number;
  /** The store's clock (ms), never ahead of it: a login dated by it is not dated after it began. */
  earliestNow(): number;
  /** Waits (bounded) until the backend can serve; never throws. */
  ready(timeoutMs: number): Promise<boolean>;
  /** Checks that the store answers now (PING on every Redis master), for health checks. */
  ping(budget: OperationBudget): Promise<void>;
  /** The memory of every Redis master (none for the in-process backend), for statistics. */
  memory(budget: OperationBudget): Promise<ServerMemory[]>;
  close(): Promise<void>;
  /** The connection session events travel through, on backends that have one (Redis). */
  readonly pubSubClient?: Redis | Cluster;
}

/**
 * Where one deployment's sessions and per-user indexes live, by role. Two implementations share
 * one contract suite: Redis (production) and an in-process one (no server needed, development
 * and tests).
 */
export interface SessionBackend {
  readonly keys: SessionKeyStore;
  readonly indexes: UserIndexStore;
  readonly lifecycle: BackendLifecycle;
}
