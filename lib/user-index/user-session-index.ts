import { Logger } from '@nestjs/common';
import { SessionStoreUnavailableException } from '../errors/session-store-unavailable.exception.js';
import { WrongTypeError } from '../errors/wrong-type.error.js';
import type { TenantKeys } from '../store/keys.js';
import type { OperationBudget } from '../store/operation-budget.js';
import type { SessionBackend } from '../store/session-backend.interface.js';
import type { EntryCheck } from '../store/session-key-store.interface.js';
import type {
  Admission,
  IndexEntry,
  IndexPage,
  IndexPosition,
  LoginStart,
} from '../store/user-index-store.interface.js';
import { leaseLengthMs, needsLeaseRenewal, renewBelowMs } from './index-lease.js';

/**
 * One tenant's per-user session indexes: the only class that writes them, and the owner of the
 * lease rule (index-lease.ts) and of the not-before rule (a login that began before its user's
 * last revocation is not admitted). Every method is one round trip on one key.
 *
 * The invariant it keeps: a session serves only while its user's index holds its entry with a
 * live lease (every read checks, see TenantSessionStore). Only `admit` (a login) adds an entry;
 * only a revocation, a logout (`remove`) or the lease's end removes one; a renewal never adds
 * one back. Ordering replaces cross-key atomicity (a user's index and sessions sit on different
 * Cluster slots): an entry is written before its session and removed after it, so an
 * interruption at any point leaves at worst an entry without a session (harmless, it is dropped
 * when its lease passes) or a session without an entry (which cannot serve), and a retried
 * revocation finds everything it did not finish.
 */
export class UserSessionIndex {
  private readonly logger = new Logger('TenantSession');

  constructor(
    private readonly backend: SessionBackend,
    private readonly keys: TenantKeys,
    /** The tenant's legacy-session adoption window's end (ms epoch), if it adopts. */
    private readonly adoptUntil?: number,
  ) {}

  /**
   * Indexes a new login's session, unless the user was revoked since the login began, `agoMs`
   * before now.
   */
  admit(
    userId: string,
    sid: string,
    ttlMs: number,
    agoMs: number,
    budget: OperationBudget,
  ): Promise<Admission> {
    return this.onIndex(userId, (key) =>
      this.backend.indexes.admit(key, sid, leaseLengthMs(ttlMs), this.began(agoMs), budget),
    );
  }

  /**
   * Indexes a legacy session (an identity, no owner) for a tenant that adopts them, unless its
   * user was revoked since the window began or the window ended (scripts.ts ADOPT). Refused on
   * a tenant that does not adopt.
   */
  async adopt(
    userId: string,
    sid: string,
    ttlMs: number,
    budget: OperationBudget,
  ): Promise<Admission> {
    const until = this.adoptUntil;
    if (until === undefined) return { admitted: false };
    return this.onIndex(userId, (key) =>
      this.backend.indexes.adopt(key, sid, leaseLengthMs(ttlMs), until, budget),
    );
  }

  /** Whether this tenant adopts legacy sessions (its window may have ended: Redis decides). */
  get adopts(): boolean {
    return this.adoptUntil !== undefined;
  }

  /** After the login's session was stored: still indexed, and still no revocation since? */
  confirm(userId: string, sid: string, agoMs: number, budget: OperationBudget): Promise<boolean> {
    return this.onIndex(userId, (key) =>
      this.backend.indexes.confirm(key, sid, this.began(agoMs), budget),
    );
  }

  /** A login that began `agoMs` before now, dated both ways (see LoginStart). */
  private began(agoMs: number): LoginStart {
    return { agoMs, at: this.backend.lifecycle.earliestNow() - agoMs };
  }

  /** Whether a session read or written now must extend its lease first. */
  needsRenewal(indexedUntil: number, ttlMs: number): boolean {
    return needsLeaseRenewal(indexedUntil, this.backend.lifecycle.now(), ttlMs);
  }

  /**
   * The session's live lease, extended to 3 TTLs from now when it ran low; undefined when the
   * index no longer admits the session (revoked, logged out, or past its lease): such a session
   * must not serve. Never adds an entry back.
   */
  lease(
    userId: string,
    sid: string,
    ttlMs: number,
    budget: OperationBudget,
  ): Promise<number | undefined> {
    return this.onIndex(userId, (key) =>
      this.backend.indexes.lease(key, sid, leaseLengthMs(ttlMs), renewBelowMs(ttlMs), budget),
    );
  }

  /**
   * Where a read finds a session's entry in the same step as the session, on backends that can
   * (see SessionBackend.read).
   */
  entryCheck(sid: string, ttlMs: number): EntryCheck {
    return {
      indexPrefix: this.keys.indexPrefix,
      sid,
      leaseMs: leaseLengthMs(ttlMs),
      renewBelowMs: renewBelowMs(ttlMs),
    };
  }

  /** The user's entries with a live lease, oldest lease first. */
  entries(userId: string, budget: OperationBudget): Promise<IndexEntry[]> {
    return this.onIndex(userId, (key) => this.backend.indexes.entries(key, false, budget));
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
    return this.onIndex(userId, (key) => this.backend.indexes.page(key, after, limit, budget));
  }

  /**
   * Records a revocation of the user (logins that began before now will not be admitted, nor
   * legacy sessions adopted until the adoption window ends), then returns the entries to
   * revoke. Removes nothing: see `remove`.
   */
  beginRevocation(userId: string, budget: OperationBudget): Promise<IndexEntry[]> {
    return this.onIndex(userId, (key) =>
      this.backend.indexes.entries(key, true, budget, this.adoptUntil),
    );
  }

  /**
   * Drops entries: a revocation's once their sessions are deleted (or found dead), a logout's
   * before its session is (SessionWriter.erase); `revoking` when that must survive a failover
   * (see SessionBackend.remove).
   */
  remove(userId: string, sids: string[], budget: OperationBudget, revoking = false): Promise<void> {
    return this.onIndex(userId, (key) => this.backend.indexes.unindex(key, sids, budget, revoking));
  }

  /**
   * A user's index key holding another Redis type (something else wrote there) can neither
   * admit nor revoke anyone: the request fails with 503, not 500, and the log names the key
   * (a user's, never a session's) to delete. A read of a logged-in session checks its entry, and
   * answers 503 too: a session whose index cannot be read must not serve.
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
