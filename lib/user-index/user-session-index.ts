import { Logger } from '@nestjs/common';
import { SessionStoreUnavailableException } from '../errors/session-store-unavailable.exception.js';
import { WrongTypeError } from '../errors/wrong-type.error.js';
import type { TenantKeys } from '../store/keys.js';
import type { OperationBudget } from '../store/operation-budget.js';
import type {
  Admission,
  IndexEntry,
  IndexPage,
  IndexPosition,
  SessionBackend,
} from '../store/session-backend.interface.js';
import { leaseLengthMs, needsLeaseRenewal } from './index-lease.js';

/**
 * One tenant's per-user session indexes: the only class that writes them, and the owner of the
 * lease rule (index-lease.ts) and of the not-before rule (a login that began before its user's
 * last revocation is not admitted). Every method is one round trip on one key.
 *
 * Ordering, which replaces cross-key atomicity (a user's index and sessions sit on different
 * Cluster slots): an entry is always written before its session and removed after it, so an
 * interruption at any point leaves at worst an entry without a session (harmless, it is dropped
 * when its lease passes), never a live session without an entry.
 */
export class UserSessionIndex {
  private readonly logger = new Logger('TenantSession');

  constructor(
    private readonly backend: SessionBackend,
    private readonly keys: TenantKeys,
  ) {}

  /** Indexes a new login's session, unless the user was revoked since it began `sinceMs` ago. */
  admit(
    userId: string,
    sid: string,
    ttlMs: number,
    sinceMs: number,
    budget: OperationBudget,
  ): Promise<Admission> {
    return this.onIndex(userId, (key) =>
      this.backend.admit(key, sid, leaseLengthMs(ttlMs), sinceMs, budget),
    );
  }

  /** After the login's session was stored: still indexed, and still no revocation since? */
  confirm(userId: string, sid: string, sinceMs: number, budget: OperationBudget): Promise<boolean> {
    return this.onIndex(userId, (key) => this.backend.confirm(key, sid, sinceMs, budget));
  }

  /** Whether a session read or written now must extend its lease first. */
  needsRenewal(indexedUntil: number, ttlMs: number): boolean {
    return needsLeaseRenewal(indexedUntil, this.backend.now(), ttlMs);
  }

  /** Extends a session's lease to 3 TTLs from now; returns it. */
  renew(userId: string, sid: string, ttlMs: number, budget: OperationBudget): Promise<number> {
    return this.backend.renew(this.keys.index(userId), sid, leaseLengthMs(ttlMs), budget);
  }

  /** The user's entries with a live lease, oldest lease first. */
  entries(userId: string, budget: OperationBudget): Promise<IndexEntry[]> {
    return this.onIndex(userId, (key) => this.backend.entries(key, false, budget));
  }

  /**
   * Up to `limit` of the user's entries with a live lease after `after` (lease order), and how
   * many there are: one round trip whatever the user's session count.
   */
  page(
    userId: string,
    after: IndexPosition | undefined,
    limit: number,
    budget: OperationBudget,
  ): Promise<IndexPage> {
    return this.onIndex(userId, (key) => this.backend.page(key, after, limit, budget));
  }

  /**
   * Records a revocation of the user (logins that began before now will not be admitted), then
   * returns the entries to revoke. Removes nothing: see `remove`.
   */
  beginRevocation(userId: string, budget: OperationBudget): Promise<IndexEntry[]> {
    return this.onIndex(userId, (key) => this.backend.entries(key, true, budget));
  }

  /**
   * Drops entries, once their sessions are deleted (or found dead); `revoking` when that is a
   * revocation's last step (see SessionBackend.remove).
   */
  remove(userId: string, sids: string[], budget: OperationBudget, revoking = false): Promise<void> {
    return this.onIndex(userId, (key) => this.backend.unindex(key, sids, budget, revoking));
  }

  /**
   * A user's index key holding another Redis type (something else wrote there) can neither
   * admit nor revoke anyone: the request fails with 503, not 500, and the log names the key
   * (a user's, never a session's) to delete. A read's lease renewal is left to the store, which
   * treats the session as absent.
   */
  private async onIndex<T>(userId: string, call: (key: string) => Promise<T>): Promise<T> {
    const key = this.keys.index(userId);
    try {
      return await call(key);
    } catch (error) {
      if (!(error instanceof WrongTypeError)) throw error;
      this.logger.error(`${key} is not a sorted set: delete it to index this user's sessions`);
      throw new SessionStoreUnavailableException('a session index key holds another Redis type');
    }
  }
}
