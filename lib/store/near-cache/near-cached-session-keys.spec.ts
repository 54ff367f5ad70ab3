import { SessionTelemetry } from '../../telemetry/session-telemetry.js';
import { OperationBudget } from '../operation-budget.js';
import type { SessionKeyStore, SessionRead, SessionWrite } from '../session-key-store.interface.js';
import { NearCache } from './near-cache.js';
import { NearCachedSessionKeys } from './near-cached-session-keys.js';

const TTL_MS = 60_000;
const always = { mode: 'always', ttlMs: TTL_MS } as const;

/**
 * A key store in memory whose writes are acknowledged when the test says: the decorator's
 * scheduling is pure logic; its behaviour against Redis is test/redis-topology/near-cache.
 */
class HeldStore {
  readonly values = new Map<string, string>();
  reads = 0;
  private held: (() => void)[] = [];

  async read(key: string): Promise<SessionRead> {
    this.reads++;
    const value = this.values.get(key) ?? null;
    return { value, ttlMs: value === null ? -2 : TTL_MS };
  }

  write({ key, value }: SessionWrite): Promise<boolean> {
    return new Promise((resolve) =>
      this.held.push(() => {
        this.values.set(key, value);
        resolve(true);
      }),
    );
  }

  acknowledge(): void {
    for (const ack of this.held.splice(0)) ack();
  }
}

describe('NearCachedSessionKeys', () => {
  const setUp = () => {
    const inner = new HeldStore();
    const cache = new NearCache(10);
    cache.enable();
    const observed = { telemetry: SessionTelemetry.off, deployment: 'test' };
    const storeNow = () => Date.now();
    const keys = new NearCachedSessionKeys(
      inner as unknown as SessionKeyStore,
      cache,
      observed,
      storeNow,
    );
    const budget = () => new OperationBudget(1_000);
    const write = (value: string) =>
      keys.write({ key: 'k', value, ttlMs: TTL_MS, onlyIfExists: false }, budget());
    const read = (spent = budget()) => keys.read('k', always, undefined, spent);
    return { inner, keys, write, read, budget };
  };

  it('serves a read that was a hit until a write of this process began in its turn, from that write', async () => {
    const { inner, write, read } = setUp();
    const first = write('v1');
    inner.acknowledge();
    await first;

    // The read finds v1 and waits for the end of the turn; a write begins in that same turn.
    const reading = read();
    const second = write('v2');
    await new Promise((resolve) => setImmediate(resolve));
    inner.acknowledge();
    await second;

    expect((await reading).value).toBe('v2');
    expect(inner.reads).toBe(0);
  });

  it("counts the wait for this process's write against the read's deadline", async () => {
    const { inner, write, read } = setUp();
    const writing = write('v1');
    const budget = new OperationBudget(1_000);
    const reading = read(budget);
    await new Promise((resolve) => setTimeout(resolve, 50));
    inner.acknowledge();
    await writing;

    expect((await reading).value).toBe('v1');
    expect(inner.reads).toBe(0);
    expect(budget.remainingMs).toBeLessThanOrEqual(1_000 - 40);
  });

  it('caches a session written to expire at an instant no longer than until that instant', async () => {
    const { inner, keys, budget } = setUp();
    // The TTL was computed a while before the write (an index round trip): 20 s of it passed.
    const expiresAt = Date.now() + 100_000;
    const writing = keys.write(
      { key: 'k', value: 'v', ttlMs: 120_000, expiresAt, onlyIfExists: false },
      budget(),
    );
    inner.acknowledge();
    await writing;

    const hit = await keys.read(
      'k',
      { mode: 'always', ttlMs: 100_000, expiresAt },
      undefined,
      budget(),
    );
    expect(hit.value).toBe('v');
    expect(inner.reads).toBe(0);
    expect(hit.ttlMs).toBeLessThanOrEqual(100_000);
  });
});
