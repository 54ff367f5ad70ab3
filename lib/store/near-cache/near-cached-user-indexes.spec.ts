import { OperationBudget } from '../operation-budget.js';
import type { UserIndexStore } from '../user-index-store.interface.js';
import { NearCache } from './near-cache.js';
import { NearCachedUserIndexes } from './near-cached-user-indexes.js';

const INDEX = 'index:alice';
const LEASE_MS = 3_000;
const RENEW_BELOW_MS = 2_000;

/**
 * An index store that answers leases as Redis's LEASE script would (renewed when less than
 * `renewBelowMs` is left), on a clock the test moves: the decorator's choice of when to ask it is
 * pure logic; its behaviour against Redis is test/redis-topology/near-cache*.
 */
class LeaseStore {
  now = 1_000_000;
  stored: number | undefined = this.now + LEASE_MS;
  asked = 0;

  async lease(_: string, __: string, leaseMs: number, renewBelowMs: number) {
    this.asked++;
    if (this.stored === undefined || this.stored <= this.now) return undefined;
    if (this.stored < this.now + renewBelowMs) this.stored = this.now + leaseMs;
    return this.stored;
  }
}

describe('NearCachedUserIndexes', () => {
  const setUp = () => {
    const inner = new LeaseStore();
    const cache = new NearCache(10);
    cache.enable();
    const indexes = new NearCachedUserIndexes(
      inner as unknown as UserIndexStore,
      cache,
      () => inner.now,
    );
    const lease = () =>
      indexes.lease(INDEX, 'sid', LEASE_MS, RENEW_BELOW_MS, new OperationBudget(1_000));
    return { inner, cache, lease };
  };

  it('serves a cached lease without asking Redis while it needs no renewal', async () => {
    const { inner, lease } = setUp();
    const first = await lease();
    inner.now += LEASE_MS - RENEW_BELOW_MS;

    expect(await lease()).toBe(first);
    expect(inner.asked).toBe(1);
  });

  it('asks Redis once a cached lease runs low, which renews it', async () => {
    const { inner, lease } = setUp();
    const first = await lease();
    inner.now += LEASE_MS - RENEW_BELOW_MS + 1;

    const renewed = await lease();
    expect(inner.asked).toBe(2);
    expect(renewed).toBe(inner.now + LEASE_MS);
    expect(renewed).toBeGreaterThan(first!);
  });

  it('serves "not admitted" as cached, and asks again once the index changed', async () => {
    const { inner, cache, lease } = setUp();
    inner.stored = undefined;
    expect(await lease()).toBeUndefined();
    expect(await lease()).toBeUndefined();
    expect(inner.asked).toBe(1);

    inner.stored = inner.now + LEASE_MS;
    cache.invalidate(INDEX);
    expect(await lease()).toBe(inner.stored);
    expect(inner.asked).toBe(2);
  });
});
