import type { OperationBudget } from '../operation-budget.js';
import type {
  Admission,
  IndexEntry,
  IndexPage,
  IndexPosition,
  LoginStart,
  UserIndexStore,
} from '../user-index-store.interface.js';
import type { NearCache } from './near-cache.js';

/**
 * An index store whose changes this process makes reach its near cache: Redis does not echo a
 * connection's own changes (NOLOOP), so an index this process changes drops the leases the cache
 * holds from it, and a lease it reads or renews is kept, and served while it needs no renewal.
 */
export class NearCachedUserIndexes implements UserIndexStore {
  constructor(
    private readonly inner: UserIndexStore,
    private readonly cache: NearCache,
    /** The store clock's estimate, never behind Redis's (see NearCachedSessionKeys). */
    private readonly storeNow: () => number,
  ) {}

  admit(
    indexKey: string,
    sid: string,
    leaseMs: number,
    began: LoginStart,
    budget: OperationBudget,
  ): Promise<Admission> {
    return this.cache.around([indexKey], () =>
      this.inner.admit(indexKey, sid, leaseMs, began, budget),
    );
  }

  adopt(
    indexKey: string,
    sid: string,
    leaseMs: number,
    adoptUntil: number,
    budget: OperationBudget,
  ): Promise<Admission> {
    return this.cache.around([indexKey], () =>
      this.inner.adopt(indexKey, sid, leaseMs, adoptUntil, budget),
    );
  }

  /**
   * A cached lease with at least `renewBelowMs` left, without a round trip (where the index
   * check is a command of its own, as on a Cluster, a hit then costs none); else Redis's answer,
   * renewed when low as ever, and kept. A renewal is this process's own change of the index,
   * which Redis does not echo: it changes that one session's lease, which is what is kept.
   */
  async lease(
    indexKey: string,
    sid: string,
    leaseMs: number,
    renewBelowMs: number,
    budget: OperationBudget,
  ): Promise<number | undefined> {
    const known = this.cache.leaseOf({ indexKey, sid });
    // Not admitted, or alive past the renewal point by a clock never behind Redis's.
    if (known && (known.lease === undefined || known.lease >= this.storeNow() + renewBelowMs)) {
      return known.lease;
    }
    const before = this.cache.mark();
    const lease = await this.inner.lease(indexKey, sid, leaseMs, renewBelowMs, budget);
    this.cache.keepLease({ indexKey, sid }, lease, before);
    return lease;
  }

  entries(
    indexKey: string,
    revoking: boolean,
    budget: OperationBudget,
    keepNotBeforeUntil?: number,
  ): Promise<IndexEntry[]> {
    const read = () => this.inner.entries(indexKey, revoking, budget, keepNotBeforeUntil);
    return revoking ? this.cache.around([indexKey], read) : read();
  }

  unindex(
    indexKey: string,
    sids: string[],
    budget: OperationBudget,
    revoking = false,
  ): Promise<void> {
    return this.cache.around([indexKey], () =>
      this.inner.unindex(indexKey, sids, budget, revoking),
    );
  }

  confirm(
    indexKey: string,
    sid: string,
    began: LoginStart,
    budget: OperationBudget,
  ): Promise<boolean> {
    return this.inner.confirm(indexKey, sid, began, budget);
  }

  page(
    indexKey: string,
    after: IndexPosition | undefined,
    limit: number,
    budget: OperationBudget,
  ): Promise<IndexPage> {
    return this.inner.page(indexKey, after, limit, budget);
  }
}
