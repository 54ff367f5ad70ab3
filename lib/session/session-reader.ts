import { WrongTypeError } from '../errors/wrong-type.error.js';
import type { TenantKeys } from '../store/keys.js';
import type { OperationBudget } from '../store/operation-budget.js';
import type {
  SessionKeyStore,
  StoredSession,
  TtlRestart,
} from '../store/session-key-store.interface.js';
import type { UserSessionIndex } from '../user-index/user-session-index.js';
import { ThrottledLogger } from '../util/throttled-logger.js';
import type { SessionLifetime } from './session-lifetime.js';
import type { SessionOwnership } from './session-owner.js';
import {
  bindOwner,
  holdFor,
  markOwnerChanged,
  markStored,
  markTtlRestarted,
  storedValueOf,
} from './session-state.js';
import type { SessionOwner, StoredSessionData } from './stored-session.js';

/** A session as a pure read finds it (see `snapshots`). */
export interface SessionSnapshot {
  data: StoredSessionData;
  /** Who it belongs to, when it is logged in. */
  userId?: string;
  /** The TTL it has left, in ms. */
  ttlMs: number;
}

/** A session as a listing finds it: stored and still its user's. */
export interface OwnedSession {
  owner: SessionOwner;
  data: StoredSessionData;
  ttlMs: number;
}

/**
 * Reads one tenant's sessions and decides whether each may serve. The rule (docs/guarantees.md, "the
 * invariant"): a session serves only while its user's index admits it, so every read of a
 * logged-in session checks its entry (on a single Redis in the same command), renews a lease
 * running low, and deletes a session that must not serve: one its index no longer admits
 * (revoked or logged out, then written back by something that loaded it before, or left by a
 * login that never completed), and one SessionOwnership refuses.
 */
export class SessionReader {
  /** Bad stored data repeats on every request that carries its cookie: said once a minute. */
  private readonly log = new ThrottledLogger('TenantSession', 60_000);

  constructor(
    private readonly keys: TenantKeys,
    private readonly store: SessionKeyStore,
    private readonly index: UserSessionIndex,
    private readonly owners: SessionOwnership,
    private readonly lifetime: SessionLifetime,
    /** Ends a session for good (its key, its entry, its sockets): see SessionWriter.erase. */
    private readonly erase: (
      sid: string,
      budget: OperationBudget,
      loaded?: string,
    ) => Promise<void>,
  ) {}

  /** A request's read: the session, its idle TTL restarted, or null when there is none. */
  read(sid: string, budget: OperationBudget): Promise<StoredSessionData | null> {
    return this.ignoringWrongType(() => this.readServing(sid, budget), null);
  }

  /** express-session's touch: restarts the TTL (and checks the entry) of a session read before. */
  async restart(sid: string, session: object, budget: OperationBudget): Promise<void> {
    const expiry = this.lifetime.expiryOf(sid, session);
    if (expiry.ttlMs <= 0) return this.erase(sid, budget, storedValueOf(session));
    const restarted = await this.ignoringWrongType(
      async () => (await this.serving(sid, { mode: 'always', ...expiry }, budget)) !== null,
      false,
    );
    if (restarted) markTtlRestarted(session, expiry.ttlMs, 'read');
  }

  /**
   * Sessions as they would serve now, with who they belong to and the TTL they have left,
   * restarting nothing: what sockets read, since they must never keep a session alive. One round
   * trip (GET and PTTL per session), plus one to check the index entries of logged-in ones.
   * Undefined for one that is gone, corrupt, refused or no longer admitted by its user's index.
   */
  async snapshots(
    sids: string[],
    budget: OperationBudget,
  ): Promise<(SessionSnapshot | undefined)[]> {
    const stored = await this.inspect(sids, budget);
    return Promise.all(
      sids.map(async (sid, i) => {
        const { value, ttlMs } = stored[i];
        const found = value === null ? undefined : this.owners.interpret(sid, value);
        // A legacy session serves sockets once a request has adopted and sealed it.
        if (!found || found.verdict === 'refused' || found.verdict === 'legacy') return undefined;
        const { data, owner } = found;
        let userId: string | undefined;
        if (found.verdict === 'owned') {
          const lease = await this.index.lease(found.owner.userId, sid, 0, budget);
          if (lease === undefined) return undefined;
          found.owner.indexedUntil = lease;
          userId = found.owner.userId;
        }
        if (owner) bindOwner(data, owner);
        markLoaded(data, sid, value!);
        // A key without a TTL (written by something else) lives by the session's own one.
        return { data, userId, ttlMs: ttlMs >= 0 ? ttlMs : this.lifetime.ttlOf(sid, data) };
      }),
    );
  }

  /**
   * A user's sessions as stored, for listings: each one whose key exists and whose sealed owner
   * is that user (or, adopting legacy sessions, whose data names that user without an owner),
   * with the TTL it has left; undefined for any other (gone, not yet stored, moved to another
   * identity, sealed with a secret this instance does not have). The index entries
   * are the caller's: nothing here removes one, since an entry without its session may be a
   * login in flight.
   */
  async ownedBy(
    userId: string,
    sids: string[],
    budget: OperationBudget,
  ): Promise<(OwnedSession | undefined)[]> {
    const stored = await this.inspect(sids, budget);
    return sids.map((sid, i) => {
      const { value, ttlMs } = stored[i];
      const found = value === null ? undefined : this.owners.interpret(sid, value);
      // A legacy session listed here is in the user's index: adopted, not yet sealed.
      const owner =
        found?.verdict === 'owned'
          ? found.owner
          : found?.verdict === 'legacy'
            ? this.owners.adopted(found.userId, 0)
            : undefined;
      if (!found || owner?.userId !== userId) return undefined;
      const left = ttlMs >= 0 ? ttlMs : this.lifetime.ttlOf(sid, found.data);
      return { owner, data: found.data, ttlMs: left };
    });
  }

  /**
   * The sessions' JSON and TTLs (GET and PTTL each) in one round trip. A key of another Redis
   * type at a session path is no session: only then is each key read on its own, to find which.
   */
  async inspect(sids: string[], budget: OperationBudget): Promise<StoredSession[]> {
    const keys = sids.map((sid) => this.keys.session(sid));
    try {
      return await this.store.inspect(keys, budget);
    } catch (error) {
      if (!(error instanceof WrongTypeError)) throw error;
    }
    return Promise.all(
      keys.map((key) =>
        this.ignoringWrongType(async () => (await this.store.inspect([key], budget))[0], {
          value: null,
          ttlMs: -2,
        }),
      ),
    );
  }

  private async readServing(
    sid: string,
    budget: OperationBudget,
  ): Promise<StoredSessionData | null> {
    const expected = this.lifetime.expectedExpiry(sid);
    // Past its absolute deadline (Redis is about to expire the key by itself): over, unread.
    if (expected.ttlMs <= 0) return this.erase(sid, budget).then(() => null);
    const loaded = await this.serving(sid, { mode: 'always', ...expected }, budget);
    if (!loaded) return null;
    const { data, owner, adopted, stored } = loaded;
    const own = this.lifetime.expiryOf(sid, data);
    let restartedTtlMs = expected.ttlMs;
    if (own.ttlMs <= 0) {
      // Only data written by hand can carry an expiry date that has passed (see sessionTtlMs).
      await this.erase(sid, budget, stored);
      return null;
    } else if (this.lifetime.differ(own.ttlMs, expected.ttlMs)) {
      // The application changed this session's max-age after its id was made.
      await this.store.expire(this.keys.session(sid), own, budget);
      restartedTtlMs = own.ttlMs;
    }
    if (owner) bindOwner(data, owner);
    markTtlRestarted(data, restartedTtlMs, 'read');
    markLoaded(data, sid, stored);
    // Its owner is sealed in by the request's save; until then each read adopts it again.
    if (adopted) markOwnerChanged(data);
    return data;
  }

  /**
   * Reads a session as `restart` says and decides whether it may serve: the data and its owner
   * (verified, and admitted by the user's index, its lease renewed when low), or null when it is
   * gone, corrupt or must not serve (then deleted, see the class); `stored`, its stored JSON.
   */
  private async serving(
    sid: string,
    restart: TtlRestart,
    budget: OperationBudget,
  ): Promise<{
    data: StoredSessionData;
    owner?: SessionOwner;
    adopted?: true;
    stored: string;
  } | null> {
    const key = this.keys.session(sid);
    const ttlMs = restart.mode === 'never' ? this.lifetime.idleTtlMs : restart.ttlMs;
    const read = await this.store.read(key, restart, this.index.entryCheck(sid, ttlMs), budget);
    if (read.value === null) return null;
    const found = this.owners.interpret(sid, read.value);
    if (!found) return null;
    if (found.verdict === 'refused') {
      await this.store.remove([key], budget);
      return null;
    }
    if (found.verdict === 'legacy') {
      const admission = await this.index.adopt(found.userId, sid, ttlMs, budget);
      if (!admission.admitted) {
        this.log.warn('Refusing a legacy session: its user was revoked, or adoption has ended');
        await this.store.remove([key], budget);
        return null;
      }
      return {
        data: found.data,
        owner: this.owners.adopted(found.userId, admission.until),
        adopted: true,
        stored: read.value,
      };
    }
    if (found.verdict === 'owned') {
      const { owner } = found;
      const lease =
        read.entry && read.entry.userId === owner.userId
          ? read.entry.lease
          : await this.index.lease(owner.userId, sid, ttlMs, budget);
      if (lease === undefined) {
        await this.store.remove([key], budget);
        return null;
      }
      owner.indexedUntil = lease;
    }
    return { ...found, stored: read.value };
  }

  /**
   * Runs `work` on one session's keys; a key of another Redis type there (something else wrote
   * it) means no session, logged, rather than a failure on every request with that cookie.
   */
  private async ignoringWrongType<T>(work: () => Promise<T>, none: T): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof WrongTypeError)) throw error;
      this.log.warn('Ignoring a key of the wrong Redis type at a session key');
      return none;
    }
  }
}

/**
 * Data loaded for `sid`: saved again (a caller's get, change, set), it is written only if the
 * session still exists (SET XX), so a session revoked meanwhile is not brought back.
 */
export function markLoaded(data: object, sid: string, stored?: string): void {
  markStored(data, undefined, stored);
  holdFor(data, sid);
}
