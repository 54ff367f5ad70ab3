import { MemorySessionBackend } from '../../../lib/store/memory-session.backend.js';
import { OperationBudget } from '../../../lib/store/operation-budget.js';
import type { SessionBackend } from '../../../lib/store/session-backend.interface.js';

/** Calls that change nothing (they are not replicated, and not replayed). */
const READ_ONLY = new Set(['now', 'inspect', 'page', 'confirm', 'ready', 'ping', 'close', 'scan']);

/**
 * The in-process backend as a primary with one asynchronous replica: every change is logged,
 * and the replica holds the log up to the last revocation step (which waits for every replica,
 * as the Redis backend's revocations do); other writes reach it only then. `failover()` promotes
 * the replica: a new primary made by replaying what it held, losing every later write.
 */
export class ReplicatedMemory {
  private primary = new MemorySessionBackend();
  private readonly log: { method: string; args: unknown[] }[] = [];
  private replicated = 0;

  /** The backend as the module sees it: always the current primary. */
  readonly backend: SessionBackend = new Proxy({} as SessionBackend, {
    get: (_, property) => {
      const method = String(property);
      const value: unknown = Reflect.get(this.primary, property);
      if (typeof value !== 'function') return value;
      const call = value as (...args: unknown[]) => unknown;
      if (READ_ONLY.has(method)) return call.bind(this.primary);
      return async (...args: unknown[]) => {
        if (method === 'entries' && args[1] === false) return call.apply(this.primary, args);
        const result = await call.apply(this.primary, args);
        this.log.push({ method, args });
        // A revocation's steps are confirmed by every replica (WAIT): so is all before them.
        if (isRevocationStep(method, args)) this.replicated = this.log.length;
        return result;
      };
    },
  });

  /** The primary now (a failover replaces it). */
  get current(): MemorySessionBackend {
    return this.primary;
  }

  async failover(): Promise<void> {
    const promoted = new MemorySessionBackend();
    for (const { method, args } of this.log.slice(0, this.replicated)) {
      const fresh = args.map((arg) => (arg instanceof OperationBudget ? budget() : arg));
      await (promoted as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method](
        ...fresh,
      );
    }
    await this.primary.close();
    this.primary = promoted;
    this.log.length = this.replicated;
  }

  close(): Promise<void> {
    return this.primary.close();
  }
}

function isRevocationStep(method: string, args: unknown[]): boolean {
  if (method === 'entries') return args[1] === true;
  if (method === 'remove' || method === 'unindex') return args[2] === true || args[3] === true;
  return false;
}

const budget = () => new OperationBudget(30_000);
