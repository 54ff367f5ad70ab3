import { AsyncLocalStorage } from 'node:async_hooks';
import type { SessionBackend } from '../../../lib/store/session-backend.interface.js';

/** One backend call an actor is about to make, held until the schedule lets it go. */
export interface HeldStep {
  actor: string;
  /** The backend method (or a world event) and a short description of its arguments. */
  step: string;
  release(): void;
}

/**
 * Which gate and actor the running code belongs to. One for every gate: each AsyncLocalStorage
 * made stays registered with the process, and thousands of them slow every await.
 */
const current = new AsyncLocalStorage<{ gate: Gate; actor: string }>();

/** Key store methods that are no step of the protocol: admin scans. */
const UNGATED = new Set(['scan', 'removeMatching']);

/**
 * Holds every backend call an actor (a protocol operation under test) makes until the
 * schedule releases it, so a test decides the order in which concurrent operations' steps
 * reach the store. Calls made outside an actor (setting up, checking the invariant) pass at
 * once. Which actor is calling is told by AsyncLocalStorage, so the operations under test are
 * the module's own code, unchanged.
 */
export class Gate {
  private readonly held: HeldStep[] = [];
  /** Released calls still running (a real Redis answers later). */
  private running = 0;

  run<T>(actor: string, operation: () => Promise<T>): Promise<T> {
    return current.run({ gate: this, actor }, operation);
  }

  /** Waits until the schedule releases this step, when called from an actor. */
  async pass(step: string): Promise<void> {
    const actor = this.actorNow();
    if (actor === undefined) return;
    await new Promise<void>((release) => this.held.push({ actor, step, release }));
  }

  /** The steps held now, oldest first. */
  get waiting(): readonly HeldStep[] {
    return this.held;
  }

  isHeld(actor: string): boolean {
    return this.held.some((step) => step.actor === actor);
  }

  get busy(): boolean {
    return this.running > 0;
  }

  release(step: HeldStep): void {
    this.held.splice(this.held.indexOf(step), 1);
    step.release();
  }

  /** The actor of this gate the running code belongs to, if any. */
  private actorNow(): string | undefined {
    const store = current.getStore();
    return store?.gate === this ? store.actor : undefined;
  }

  /** The backend with every protocol call (of its key and index stores) held at this gate. */
  wrap(backend: SessionBackend): SessionBackend {
    return {
      keys: this.hold(backend.keys),
      indexes: this.hold(backend.indexes),
      lifecycle: backend.lifecycle,
    };
  }

  private hold<T extends object>(target: T): T {
    return new Proxy(target, {
      get: (object, property, receiver) => {
        const value: unknown = Reflect.get(object, property, receiver);
        if (typeof value !== 'function') return value;
        const method = value as (...args: unknown[]) => unknown;
        if (UNGATED.has(String(property))) return method.bind(object);
        return async (...args: unknown[]) => {
          await this.pass(describe(String(property), args));
          if (this.actorNow() === undefined) return method.apply(object, args);
          this.running++;
          try {
            return await method.apply(object, args);
          } finally {
            this.running--;
          }
        };
      },
    });
  }
}

/** `method key` (the first argument, when it is a key), for traces. */
function describe(method: string, args: unknown[]): string {
  const first = args[0];
  const key = Array.isArray(first)
    ? first.join(',')
    : typeof first === 'string'
      ? first
      : typeof first === 'object' && first !== null && 'key' in first
        ? String(first.key)
        : '';
  return key ? `${method} ${key.replace(/^.*:/, '')}` : method;
}
