import { MemoryBackend } from '../../../lib/store/memory/memory-backend.js';
import { OperationBudget } from '../../../lib/store/operation-budget.js';
import type { SessionBackend } from '../../../lib/store/session-backend.interface.js';

/** Calls that change nothing (they are not replicated, and not replayed). */
const READ_ONLY = new Set(['inspect', 'page', 'confirm', 'scan']);

type Part = 'keys' | 'indexes';

/**
 * The in-process backend as a primary with one asynchronous replica: every change is logged,
 * and the replica holds the log up to the last revocation step (which waits for every replica,
 * as the Redis backend's revocations do); other writes reach it only then. `failover()` promotes
 * the replica: a new primary made by replaying what it held, losing every later write.
 */
export class ReplicatedMemory {
  private primary = new MemoryBackend();
  private readonly log: { part: Part; method: string; args: unknown[] }[] = [];
  private replicated = 0;

  /** The backend as the module sees it: always the current primary. */
  readonly backend: SessionBackend = {
    keys: this.logged('keys'),
    indexes: this.logged('indexes'),
    lifecycle: {
      now: () => this.primary.now(),
      earliestNow: () => this.primary.earliestNow(),
      ready: () => this.primary.ready(),
      ping: (budget) => this.primary.ping(budget),
      memory: (budget) => this.primary.memory(budget),
      close: () => this.primary.close(),
    },
  };

  /** The primary now (a failover replaces it). */
  get current(): MemoryBackend {
    return this.primary;
  }

  async failover(): Promise<void> {
    const promoted = new MemoryBackend();
    for (const { part, method, args } of this.log.slice(0, this.replicated)) {
      const fresh = args.map((arg) => (arg instanceof OperationBudget ? budget() : arg));
      const store = promoted[part] as unknown as Record<string, (...a: unknown[]) => unknown>;
      await store[method](...fresh);
    }
    await this.primary.close();
    this.primary = promoted;
    this.log.length = this.replicated;
  }

  close(): Promise<void> {
    return this.primary.close();
  }

  private logged<P extends Part>(part: P): SessionBackend[P] {
    return new Proxy({} as SessionBackend[P], {
      get: (_, property) => {
        const method = String(property);
        // The primary when the call runs: a command sent after a failover reaches the new one.
        const on = () =>
          this.primary[part] as unknown as Record<string, (...a: unknown[]) => unknown>;
        return async (...args: unknown[]) => {
          const store = on();
          const readOnly = READ_ONLY.has(method) || (method === 'entries' && args[1] === false);
          if (readOnly) return store[method](...args);
          const result = await store[method](...args);
          this.log.push({ part, method, args });
          // A revocation's steps are confirmed by every replica (WAIT): so is all before them.
          if (isRevocationStep(method, args)) this.replicated = this.log.length;
          return result;
        };
      },
    });
  }
}

/** Steps confirmed by every replica: a revocation's, and a logout's entry removal. */
function isRevocationStep(method: string, args: unknown[]): boolean {
  if (method === 'entries') return args[1] === true;
  if (method === 'remove' || method === 'unindex') return args[2] === true || args[3] === true;
  return false;
}

const budget = () => new OperationBudget(30_000);
