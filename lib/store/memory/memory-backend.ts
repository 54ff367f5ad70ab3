import type { OperationBudget } from '../operation-budget.js';
import type {
  BackendLifecycle,
  ServerMemory,
  SessionBackend,
} from '../session-backend.interface.js';
import { MemorySessionKeys } from './memory-session-keys.js';
import { MemoryTables, preciseNow } from './memory-tables.js';
import { MemoryUserIndexes } from './memory-user-indexes.js';

/**
 * The embedded store: the same semantics as the Redis backend (TTLs, conditional writes,
 * index leases, not-before) in this process's memory. Sessions vanish on restart and are not
 * shared between processes, so it is meant for development, samples and tests. Each call is
 * one step here that spends nothing; as on Redis, a step that starts with its budget already
 * spent fails (503) and changes nothing.
 */
export class MemoryBackend implements SessionBackend, BackendLifecycle {
  /** The data, for tests that read it as a second Redis client would. */
  readonly tables = new MemoryTables();
  readonly keys = new MemorySessionKeys(this.tables);
  readonly indexes = new MemoryUserIndexes(this.tables);
  readonly lifecycle: BackendLifecycle = this;

  now(): number {
    return preciseNow();
  }

  /** The same clock: this process reads it without delay. */
  earliestNow(): number {
    return this.now();
  }

  async ready(): Promise<boolean> {
    return true;
  }

  async ping(budget: OperationBudget): Promise<void> {
    this.tables.start(budget);
  }

  /** No Redis server: its data is part of this process's heap. */
  async memory(budget: OperationBudget): Promise<ServerMemory[]> {
    this.tables.start(budget);
    return [];
  }

  async close(): Promise<void> {
    this.tables.close();
  }
}
