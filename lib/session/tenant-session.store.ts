import type { Request } from 'express';
import { Store, type SessionData } from 'express-session';
import { performance } from 'node:perf_hooks';
import { LoginRevokedException } from '../errors/login-revoked.exception.js';
import { SessionRevokedException } from '../errors/session-revoked.exception.js';
import { WrongTypeError } from '../errors/wrong-type.error.js';
import type { SessionIdentity } from '../options/tenant-session-options.interface.js';
import type { TenantKeys } from '../store/keys.js';
import { OperationBudget, RoundTripBudget } from '../store/operation-budget.js';
import type {
  SessionBackend,
  StoredSession,
  TtlRestart,
} from '../store/session-backend.interface.js';
import { normalizeUserId } from '../user-index/user-id.js';
import { ThrottledLogger } from '../util/throttled-logger.js';
import type { UserSessionIndex } from '../user-index/user-session-index.js';
import type { OwnerSeal } from './owner-seal.js';
import { getRequestContext, requestAgeMs } from './request-context.js';
import { decodeSession, encodeSession, sessionTtlMs } from './session-codec.js';
import { deadlineOfSessionId, maxAgeOfSessionId } from './session-id.js';
import {
  bindOwner,
  carryLoadedState,
  forget,
  forgetUnlessHeldFor,
  hasChanged,
  holdFor,
  isHeldFor,
  isPersisted,
  markSaveFailed,
  markOwnerChanged,
  markStored,
  sessionFields,
  markTtlRestarted,
  ownerOf,
  ttlRestartOf,
  unbindOwner,
  type SessionOwner,
} from './session-state.js';

/** A connect-redis style callback: called once, with the error or with the value. */
export type StoreCallback<T = void> = (err: unknown, value?: T | null) => unknown;
/** A session as `all()` lists it: its data plus its id, as connect-redis lists them. */
export type ListedSession = SessionData & Record<string, unknown> & { id: string };
type SessionObject = SessionData & Record<string, unknown> & { req?: Request };

/** express-session derives max-age from a clock reading, so it can be a few ms off the set value. */
const SAME_TTL_TOLERANCE_MS = 1000;
/**
 * `touch` leaves a TTL restarted less than this share of it ago: the session middleware (and
 * express-session) touches as the response ends, after a load that restarted the TTL as the
 * request began, and a session may
 * end that much earlier than its cookie says (36 s of an hour) rather than cost a command.
 */
const FRESH_RESTART_SHARE = 0.01;
const MAX_USER_AGENT_LENGTH = 512;

/**
 * connect-redis 8's calling convention: the promise resolves to the value or, given a callback,
 * to what the callback returns once called with (error) or (null, value). A failure without a
 * callback rejects the promise, which is marked handled: a caller who ignores it (such as
 * express-session's `req.session.destroy()` without a callback) never gets an unhandled
 * rejection that ends the process.
 */
function settle<T>(work: Promise<T>, callback: StoreCallback<T> | undefined): Promise<unknown> {
  if (callback)
    return work.then(
      (value) => callback(null, value),
      (error) => callback(error),
    );
  work.catch(() => undefined);
  return work;
}

/** What the store and its callers need to know about one tenant. */
export interface TenantStoreSettings {
  keys: TenantKeys;
  index: UserSessionIndex;
  seal: OwnerSeal;
  identity: SessionIdentity;
  idleTtlMs: number;
  operationTimeoutMs: number;
  /**
   * Runs once a session is stored under a new identity, however it logged in (the cap);
   * `userSessions` is the user's entry count its admission read (see `Admission`).
   */
  afterLogin(userId: string, userSessions: number, req: Request | undefined): Promise<void>;
  /**
   * Called (not awaited) once a session no longer belongs to `userId`: destroyed, or saved
   * without that identity (a logout, whatever did it); the live sign-out of sockets.
   */
  afterLogout(userId: string, sid: string): void;
}

/** What stored JSON means to the tenant (see `TenantSessionStore.interpret`). */
interface Interpretation {
  verdict: 'owned' | 'anonymous' | 'refused';
  data: SessionObject;
  owner?: SessionOwner;
}

/** A session as a pure read finds it (see `snapshots`). */
export interface SessionSnapshot {
  data: SessionData;
  /** Who it belongs to (see `identityOf`). */
  userId?: string;
  /** The TTL it has left, in ms. */
  ttlMs: number;
}

/**
 * One tenant's express-session store, a complete one: get, set, destroy, touch, all, ids,
 * length, clear, plus peek, each with connect-redis 8's callback and promise styles. Stored
 * data stays what connect-redis reads and writes; what differs is how it talks to Redis:
 * - a read is one GETEX that also restarts the idle TTL (the session id tells a session's own
 *   max-age, see session-id.ts), so express-session's `touch` at the end of the request costs
 *   nothing; `peek` reads without restarting anything;
 * - a session loaded from the store is saved with SET XX, so a request still in flight when
 *   its session is revoked cannot write it back;
 * - the user index follows the session's identity on every save, however it got there (our
 *   login, passport, the app's own fields): indexed before it is stored, unindexed after;
 * - `all`, `ids`, `length` and `clear` see this tenant's keys only, and `clear` also drops its
 *   user indexes.
 */
export class TenantSessionStore extends Store {
  /** Bad stored data repeats on every request that carries its cookie: said once a minute. */
  private readonly log = new ThrottledLogger('TenantSession', 60_000);
  /** Gives `req` a new session; installed by the session middleware (ours or express-session). */
  declare generate: (req: Request) => void;
  readonly keys: TenantKeys;
  readonly idleTtlMs: number;

  constructor(
    private readonly backend: SessionBackend,
    private readonly settings: TenantStoreSettings,
  ) {
    super();
    this.keys = settings.keys;
    this.idleTtlMs = settings.idleTtlMs;
  }

  /** The session, its idle TTL restarted (one GETEX); null when there is none. */
  override get(sid: string): Promise<SessionData | null>;
  override get(sid: string, callback: StoreCallback<SessionData | null>): Promise<unknown>;
  override get(sid: string, callback?: StoreCallback<SessionData | null>): Promise<unknown> {
    return settle(this.read(sid, this.budget()), callback);
  }

  /** `get` for the session middleware: on the request's budget, a promise only. */
  loadForRequest(sid: string, budget: OperationBudget): Promise<SessionData | null> {
    return this.read(sid, budget);
  }

  /** Stores the session (SET with its TTL; SET XX for one loaded from the store). */
  override set(sid: string, session: SessionData): Promise<void>;
  override set(sid: string, session: SessionData, callback: StoreCallback): Promise<unknown>;
  override set(sid: string, session: SessionData, callback?: StoreCallback): Promise<unknown> {
    return settle(this.save(sid, session as SessionObject), callback);
  }

  /** Deletes the session and its index entry (GETDEL, then ZREM when it had an owner). */
  override destroy(sid: string): Promise<void>;
  override destroy(sid: string, callback: StoreCallback): Promise<unknown>;
  override destroy(sid: string, callback?: StoreCallback): Promise<unknown> {
    return settle(this.erase(sid, this.budget()), callback);
  }

  /**
   * Restarts the session's idle TTL with its own max-age. express-session calls this at the end
   * of every request that left its session unchanged (the module's session middleware only when
   * `touchIsDue`): the GETEX that loaded it (or the SET that stored it) restarted the TTL moments
   * ago, so then nothing is sent. Otherwise one GETEX,
   * which also finds the owner and keeps the user index's lease ahead of the new expiry (RENEW
   * and SET XX when it is low), so a touched session stays revocable.
   */
  override touch(sid: string, session: SessionData): Promise<void>;
  override touch(sid: string, session: SessionData, callback: StoreCallback): Promise<unknown>;
  override touch(sid: string, session: SessionData, callback?: StoreCallback): Promise<unknown> {
    return settle(this.restart(sid, session as SessionObject), callback);
  }

  /** The session as stored, for admin tools: one GET (and PTTL), the TTL left as it is. */
  peek(sid: string): Promise<SessionData | null>;
  peek(sid: string, callback: StoreCallback<SessionData | null>): Promise<unknown>;
  peek(sid: string, callback?: StoreCallback<SessionData | null>): Promise<unknown> {
    return settle(
      this.snapshots([sid]).then(([snapshot]) => snapshot?.data ?? null),
      callback,
    );
  }

  /**
   * Every session of this tenant, each with its `id` (as connect-redis lists them), TTLs left as
   * they are. A SCAN of the whole keyspace (every master of a cluster) plus one round trip of
   * GETs per page: O(N) in all keys; for admin tools, never for a request.
   */
  override all(): Promise<ListedSession[]>;
  override all(callback: StoreCallback<ListedSession[]>): Promise<unknown>;
  override all(callback?: StoreCallback<ListedSession[]>): Promise<unknown> {
    return settle(this.listAll(), callback);
  }

  /** The ids of this tenant's sessions: a SCAN of the whole keyspace, like `all`. */
  ids(): Promise<string[]>;
  ids(callback: StoreCallback<string[]>): Promise<unknown>;
  ids(callback?: StoreCallback<string[]>): Promise<unknown> {
    return settle(this.listIds(), callback);
  }

  /** How many sessions this tenant has: a SCAN of the whole keyspace, like `all`. */
  override length(): Promise<number>;
  override length(callback: StoreCallback<number>): Promise<unknown>;
  override length(callback?: StoreCallback<number>): Promise<unknown> {
    return settle(
      this.listIds().then((ids) => ids.length),
      callback,
    );
  }

  /**
   * Deletes all of this tenant's sessions and its user indexes, on every master (SCAN of the
   * whole keyspace, one DEL per key found). Nothing else: other tenants and apps keep theirs.
   * Not atomic: a login finishing meanwhile may survive it. Revocation listeners are not told;
   * `SessionRevocationService.revokeTenant` does the same and tells them.
   */
  override clear(): Promise<void>;
  override clear(callback: StoreCallback): Promise<unknown>;
  override clear(callback?: StoreCallback): Promise<unknown> {
    return settle(this.removeAll(), callback);
  }

  /** express-session's regenerate, on the request's budget (login, passport's logIn/logOut). */
  override regenerate(req: Request, callback: (err?: unknown) => void): void {
    this.erase(req.sessionID, this.budget(req)).then(() => {
      this.generate(req);
      callback();
    }, callback);
  }

  /** Deletes the request's session (and its index entry) on the request's budget. */
  async end(req: Request): Promise<void> {
    await this.erase(req.sessionID, this.budget(req));
    (req as { session?: unknown }).session = undefined;
  }

  /**
   * Carries the owner over to the `req.session` object built from loaded data (express-session's
   * `Session`).
   */
  override createSession(req: Request, data: SessionData): ReturnType<Store['createSession']> {
    const owner = ownerOf(data);
    const session = super.createSession(req, data);
    carryLoadedState(data, session);
    holdFor(session, req.sessionID);
    if (owner) bindOwner(session, owner);
    return session;
  }

  /**
   * Sessions as they would serve now, with who they belong to and the TTL they have left,
   * restarting nothing: what sockets read, since they must never keep a session alive. One round
   * trip (GET and PTTL per session), plus one to check the index entries of logged-in ones.
   * Undefined for one that is gone, corrupt, refused or no longer admitted by its user's index.
   */
  async snapshots(
    sids: string[],
    budget = this.budget(),
  ): Promise<(SessionSnapshot | undefined)[]> {
    const stored = await this.inspect(sids, budget);
    return Promise.all(
      sids.map(async (sid, i) => {
        const { value, ttlMs } = stored[i];
        const found = value === null ? undefined : this.interpret(sid, value);
        if (!found || found.verdict === 'refused') return undefined;
        const { data, owner } = found;
        if (found.verdict === 'owned') {
          const lease = await this.settings.index.lease(owner!.userId, sid, 0, budget);
          if (lease === undefined) return undefined;
          owner!.indexedUntil = lease;
        }
        if (owner) bindOwner(data, owner);
        markLoaded(data, sid);
        // A key without a TTL (written by something else) lives by the session's own one.
        const left = ttlMs >= 0 ? ttlMs : this.ttlOf(sid, data);
        return { data, userId: found.verdict === 'owned' ? owner!.userId : undefined, ttlMs: left };
      }),
    );
  }

  /**
   * A user's sessions as stored, for listings: each one whose key exists and whose sealed owner
   * is that user, with the TTL it has left; undefined for any other (gone, not yet stored, moved
   * to another identity, sealed with a secret this instance does not have). The index entries
   * are the caller's: nothing here removes one, since an entry without its session may be a
   * login in flight.
   */
  async ownedBy(
    userId: string,
    sids: string[],
    budget: OperationBudget,
  ): Promise<({ owner: SessionOwner; data: SessionData; ttlMs: number } | undefined)[]> {
    const stored = await this.inspect(sids, budget);
    return sids.map((sid, i) => {
      const { value, ttlMs } = stored[i];
      const found = value === null ? undefined : this.interpret(sid, value);
      if (found?.verdict !== 'owned' || found.owner!.userId !== userId) return undefined;
      return {
        owner: found.owner!,
        data: found.data,
        ttlMs: ttlMs >= 0 ? ttlMs : this.ttlOf(sid, found.data),
      };
    });
  }

  /**
   * The sessions' JSON and TTLs (GET and PTTL each) in one round trip. A key of another Redis
   * type at a session path is no session: only then is each key read on its own, to find which.
   */
  async inspect(sids: string[], budget: OperationBudget): Promise<StoredSession[]> {
    const keys = sids.map((sid) => this.keys.session(sid));
    try {
      return await this.backend.inspect(keys, budget);
    } catch (error) {
      if (!(error instanceof WrongTypeError)) throw error;
    }
    return Promise.all(
      keys.map((key, i) =>
        this.ignoringWrongType(
          sids[i],
          async () => (await this.backend.inspect([key], budget))[0],
          { value: null, ttlMs: -2 },
        ),
      ),
    );
  }

  /** Who the session belongs to: the user `login()` bound, else the `identity` option's answer. */
  identityOf(session: object | null | undefined): string | undefined {
    if (!session) return undefined;
    const owner = ownerOf(session);
    if (owner?.via === 'login') return owner.userId;
    return normalizeUserId(this.settings.identity(session as SessionObject));
  }

  /** Binds a freshly regenerated session to `userId`; indexed by its next save. */
  bindLogin(session: object, userId: string, req: Request): void {
    bindOwner(session, {
      userId,
      via: 'login',
      createdAt: 0,
      ip: req.ip,
      userAgent: req.get('user-agent')?.slice(0, MAX_USER_AGENT_LENGTH),
      indexedUntil: 0,
    });
  }

  /**
   * Records that the app re-checked the credentials of the session's user just now (step-up),
   * sealed into its owner on the next save. The time (ms, Redis clock), or undefined when the
   * session has no indexed identity.
   */
  recordAuthentication(session: object): number | undefined {
    const owner = this.indexedOwner(session);
    if (!owner) return undefined;
    owner.authenticatedAt = Math.round(this.backend.now());
    markOwnerChanged(session);
    return owner.authenticatedAt;
  }

  /** When the session's user last proved who they are (ms, Redis clock); undefined if nobody. */
  authenticatedAt(session: object | null | undefined): number | undefined {
    const owner = this.indexedOwner(session);
    return owner && (owner.authenticatedAt ?? owner.createdAt);
  }

  /** How long ago that was, by the Redis clock estimate (app clocks need not agree). */
  msSinceAuthentication(session: object | null | undefined): number | undefined {
    const at = this.authenticatedAt(session);
    return at === undefined ? undefined : this.backend.now() - at;
  }

  /** The owner sealed into stored JSON, or undefined when absent or not written by us (logged). */
  ownerInStored(sid: string, raw: string): SessionOwner | undefined {
    const decoded = decodeSession(raw);
    return decoded && this.verifiedOwner(sid, decoded);
  }

  /** A budget for work outside any request's, or the request's own. */
  budget(req?: Request): OperationBudget {
    return getRequestContext(req)?.budget ?? new OperationBudget(this.settings.operationTimeoutMs);
  }

  private read(sid: string, budget: OperationBudget): Promise<SessionData | null> {
    return this.ignoringWrongType(sid, () => this.readStored(sid, budget), null);
  }

  /**
   * Runs `work` on one session's keys; a key of another Redis type there (something else wrote
   * it) means no session, logged, rather than a failure on every request with that cookie.
   */
  private async ignoringWrongType<T>(sid: string, work: () => Promise<T>, none: T): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof WrongTypeError)) throw error;
      this.log.warn('Ignoring a key of the wrong Redis type at a session key');
      return none;
    }
  }

  private async readStored(sid: string, budget: OperationBudget): Promise<SessionData | null> {
    const expectedTtlMs = this.withinLifetime(sid, maxAgeOfSessionId(sid) ?? this.idleTtlMs);
    // Past its absolute deadline (Redis is about to expire the key by itself): over, unread.
    if (expectedTtlMs <= 0) return this.erase(sid, budget).then(() => null);
    const loaded = await this.loadServing(sid, { mode: 'always', ttlMs: expectedTtlMs }, budget);
    if (!loaded) return null;
    const { data, owner } = loaded;
    const ttlMs = this.ttlOf(sid, data);
    let restartedTtlMs = expectedTtlMs;
    if (ttlMs <= 0) {
      // Only data written by hand can carry an expiry date that has passed (see sessionTtlMs).
      await this.erase(sid, budget);
      return null;
    } else if (Math.abs(ttlMs - expectedTtlMs) > SAME_TTL_TOLERANCE_MS) {
      // The application changed this session's max-age after its id was made.
      await this.backend.expire(this.keys.session(sid), ttlMs, budget);
      restartedTtlMs = ttlMs;
    }
    if (owner) bindOwner(data, owner);
    markTtlRestarted(data, restartedTtlMs, 'read');
    markLoaded(data, sid);
    return data;
  }

  /**
   * Reads a session as `restart` says and decides whether it may serve: the data and its owner
   * (verified, and admitted by the user's index, its lease renewed when low), or null when it is
   * gone, corrupt or must not serve. One that must not serve is deleted: a session its index no
   * longer admits (revoked or logged out, then written back by something that loaded it before,
   * or left by a login that never completed), one whose owner does not verify, and one whose
   * data claims a user with no owner to show for it.
   */
  private async loadServing(
    sid: string,
    restart: TtlRestart,
    budget: OperationBudget,
  ): Promise<{ data: SessionObject; owner?: SessionOwner } | null> {
    const key = this.keys.session(sid);
    const ttlMs = restart.mode === 'never' ? this.idleTtlMs : restart.ttlMs;
    const check = this.settings.index.entryCheck(sid, ttlMs);
    const read = await this.backend.read(key, restart, check, budget);
    if (read.value === null) return null;
    const found = this.interpret(sid, read.value);
    if (!found) return null;
    if (found.verdict === 'refused') {
      await this.backend.remove([key], budget);
      return null;
    }
    const { data, owner } = found;
    if (found.verdict === 'owned') {
      const lease =
        read.entry && read.entry.userId === owner!.userId
          ? read.entry.lease
          : await this.settings.index.lease(owner!.userId, sid, ttlMs, budget);
      if (lease === undefined) {
        await this.backend.remove([key], budget);
        return null;
      }
      owner!.indexedUntil = lease;
    }
    return { data, owner };
  }

  /**
   * What stored JSON means to this tenant, by the rule every read applies: `owned` when its
   * sealed owner verifies and its data (or the login binding) claims that same user; `anonymous`
   * when it claims nobody (an owner it still carries is unindexed by its next save); `refused`
   * when its owner is there but does not verify (edited, or sealed with a secret this instance
   * lacks), or its data claims a user no owner vouches for (an identity written outside the
   * module, or another user than its owner's). Undefined when corrupt (logged, left in place).
   */
  private interpret(sid: string, raw: string): Interpretation | undefined {
    const decoded = decodeSession(raw);
    if (!decoded) {
      this.log.warn('Ignoring corrupt session data');
      return undefined;
    }
    const { data } = decoded;
    const owner = this.verifiedOwner(sid, decoded);
    const tampered = !owner && (decoded.owner !== undefined || decoded.unsealed === true);
    const claimed =
      owner?.via === 'login' ? owner.userId : normalizeUserId(this.settings.identity(data));
    if (tampered) {
      this.log.warn('Refusing a session whose owner does not verify (edited, or another secret)');
      return { verdict: 'refused', data };
    }
    if (claimed === undefined) return { verdict: 'anonymous', data, owner };
    if (owner?.userId === claimed) return { verdict: 'owned', data, owner };
    this.log.warn('Refusing a session whose data names a user its owner does not vouch for');
    return { verdict: 'refused', data };
  }

  private async save(sid: string, session: SessionObject): Promise<void> {
    // A request's session is that request's, under its one id; an object of the caller's own
    // may have been loaded or stored under another.
    if (!session.req) forgetUnlessHeldFor(session, sid);
    // express-session saves a session that regenerate() made once more as the response ends (it
    // loses track of the new object), though the login already stored it as it is. A session
    // only loaded is written again when asked (`resave: true`), and so is any object given
    // outside a request.
    const fields = sessionFields(session);
    const unchanged = isPersisted(session) && !hasChanged(session, fields);
    if (session.req && unchanged && ttlRestartOf(session)?.by === 'write') return;
    try {
      await this.write(sid, session, fields, session.req);
    } catch (error) {
      markSaveFailed(session);
      throw error;
    }
  }

  /**
   * Whether `touch` would send anything: not when the session's TTL was restarted with the same
   * value moments ago (the request's own load or save).
   */
  touchIsDue(sid: string, session: SessionData): boolean {
    const ttlMs = this.ttlOf(sid, session as SessionObject);
    const restarted = isHeldFor(session, sid) ? ttlRestartOf(session) : undefined;
    return !(
      restarted &&
      Math.abs(restarted.ttlMs - ttlMs) <= SAME_TTL_TOLERANCE_MS &&
      performance.now() - restarted.at <= ttlMs * FRESH_RESTART_SHARE
    );
  }

  private async restart(sid: string, session: SessionObject): Promise<void> {
    if (!this.touchIsDue(sid, session)) return;
    const ttlMs = this.ttlOf(sid, session);
    const budget = this.budget(session.req);
    if (ttlMs <= 0) return this.erase(sid, budget);
    const restartedNow = await this.ignoringWrongType(
      sid,
      async () => (await this.loadServing(sid, { mode: 'always', ttlMs }, budget)) !== null,
      false,
    );
    if (restartedNow) markTtlRestarted(session, ttlMs, 'read');
  }

  private async listIds(): Promise<string[]> {
    const ids = new Set<string>();
    for await (const keys of this.scanSessions()) {
      for (const key of keys) ids.add(this.keys.sidOf(key)!);
    }
    return [...ids];
  }

  private async listAll(): Promise<ListedSession[]> {
    const sessions = new Map<string, ListedSession>();
    for await (const page of this.scanSessions()) {
      const sids = page.map((key) => this.keys.sidOf(key)!).filter((sid) => !sessions.has(sid));
      const snapshots = await this.snapshots(sids, this.scanBudget());
      snapshots.forEach((snapshot, i) => {
        const data = snapshot?.data as SessionObject | undefined;
        if (data) sessions.set(sids[i], Object.assign(data, { id: sids[i] }));
      });
    }
    return [...sessions.values()];
  }

  /** Pages of this tenant's session keys (never anyone else's, see options/key-templates.ts). */
  private async *scanSessions(): AsyncIterable<string[]> {
    yield* this.backend.scan(this.keys.sessionPattern(), this.scanBudget());
  }

  private async removeAll(): Promise<void> {
    await this.backend.removeMatching(this.keys.scanPatterns(), this.scanBudget());
  }

  private scanBudget(): OperationBudget {
    return new RoundTripBudget(this.settings.operationTimeoutMs);
  }

  /**
   * Saves a session and keeps its index entry with its identity: an identity that appears is
   * admitted (refused if the user was revoked since the request began), stored, then confirmed;
   * one that changes or goes is unindexed only after the session no longer claims it.
   */
  private async write(
    sid: string,
    session: SessionObject,
    fields: string,
    req?: Request,
  ): Promise<void> {
    const context = getRequestContext(req);
    const budget = this.budget(req);
    const ttlMs = this.ttlOf(sid, session);
    if (ttlMs <= 0) return this.erase(sid, budget);
    const key = this.keys.session(sid);
    const persisted = isPersisted(session);
    const current = ownerOf(session);
    const indexed = current && current.indexedUntil > 0 ? current : undefined;
    const identity = this.identityOf(session);

    let owner: SessionOwner | undefined;
    let userSessions = 0;
    if (identity === undefined) {
      owner = undefined;
    } else if (indexed?.userId === identity) {
      owner = indexed;
      if (this.settings.index.needsRenewal(owner.indexedUntil, ttlMs)) {
        const lease = await this.settings.index.lease(identity, sid, ttlMs, budget);
        // Its index no longer admits it: revoked while this request held it.
        if (lease === undefined) throw new SessionRevokedException();
        owner.indexedUntil = lease;
      }
    } else {
      if (persisted) {
        this.log.warn(
          'An identity appeared on a session without a new session id (session fixation ' +
            'risk): regenerate the session when logging in',
        );
      }
      const since = requestAgeMs(context);
      ({ owner, userSessions } = await this.admit(
        sid,
        identity,
        current,
        ttlMs,
        since,
        budget,
        req,
      ));
    }

    // `fields` (the session as the save was asked for) is what is written, also the baseline it
    // is marked stored with once the write succeeded: a change made meanwhile is still a change.
    const value = this.encode(sid, session, owner, fields);
    const written = await this.backend.write(
      {
        key,
        value,
        ttlMs,
        onlyIfExists: persisted,
        owner: owner && { userId: owner.userId, indexKey: this.keys.index(owner.userId), sid },
      },
      budget,
    );
    if (!written) throw new SessionRevokedException();
    if (owner && owner !== indexed) await this.confirm(sid, owner, requestAgeMs(context), budget);
    if (indexed && indexed.userId !== owner?.userId) {
      this.settings.afterLogout(indexed.userId, sid);
      await this.settings.index.remove(indexed.userId, [sid], budget);
    }
    if (owner) bindOwner(session, owner);
    else unbindOwner(session);
    markStored(session, fields);
    markTtlRestarted(session, ttlMs, 'write');
    // An object of the caller's own (not a request's session, not loaded from here) stays
    // theirs: storing it again is a new upsert, however often they do it.
    if (session.req || isHeldFor(session, sid)) holdFor(session, sid);
    else forget(session);
    if (owner && owner !== indexed) {
      await this.settings.afterLogin(owner.userId, userSessions, req);
    }
  }

  private async admit(
    sid: string,
    userId: string,
    current: SessionOwner | undefined,
    ttlMs: number,
    sinceMs: number,
    budget: OperationBudget,
    req?: Request,
  ): Promise<{ owner: SessionOwner; userSessions: number }> {
    const admission = await this.settings.index.admit(userId, sid, ttlMs, sinceMs, budget);
    if (!admission.admitted) throw new LoginRevokedException();
    const bound = current?.via === 'login' && current.userId === userId ? current : undefined;
    const owner: SessionOwner = {
      userId,
      via: bound ? 'login' : 'identity',
      createdAt: admission.now,
      authenticatedAt: admission.now,
      ip: bound ? bound.ip : req?.ip,
      userAgent: bound ? bound.userAgent : req?.get('user-agent')?.slice(0, MAX_USER_AGENT_LENGTH),
      indexedUntil: admission.until,
    };
    return { owner, userSessions: admission.entries };
  }

  /** A login's session is stored: if a revocation raced it, take the session back. */
  private async confirm(
    sid: string,
    owner: SessionOwner,
    sinceMs: number,
    budget: OperationBudget,
  ): Promise<void> {
    if (await this.settings.index.confirm(owner.userId, sid, sinceMs, budget)) return;
    await this.backend.remove([this.keys.session(sid)], budget);
    throw new LoginRevokedException();
  }

  private async erase(sid: string, budget: OperationBudget): Promise<void> {
    const key = this.keys.session(sid);
    const raw = await this.ignoringWrongType(sid, () => this.backend.take(key, budget), null);
    const owner = raw === null ? undefined : this.ownerInStored(sid, raw);
    if (!owner) return;
    this.settings.afterLogout(owner.userId, sid);
    await this.settings.index.remove(owner.userId, [sid], budget);
  }

  /** The TTL a session gets when stored or read now: its own, never past its deadline. */
  private ttlOf(sid: string, data: SessionObject): number {
    return this.withinLifetime(sid, sessionTtlMs(data, this.idleTtlMs));
  }

  /**
   * `ttlMs`, cut short at the session's absolute deadline (see session-id.ts) so its key never
   * outlives it; the index lease, 3 times this TTL, shrinks with it.
   */
  private withinLifetime(sid: string, ttlMs: number): number {
    const deadline = deadlineOfSessionId(sid);
    return deadline === undefined
      ? ttlMs
      : Math.min(ttlMs, Math.floor(deadline - this.backend.now()));
  }

  /** The owner the session is indexed under, while its data still claims that identity. */
  private indexedOwner(session: object | null | undefined): SessionOwner | undefined {
    const owner = ownerOf(session);
    if (!owner || owner.indexedUntil <= 0) return undefined;
    return this.identityOf(session) === owner.userId ? owner : undefined;
  }

  /** The owner sealed in stored JSON, when this tenant's secrets made its seal. */
  private verifiedOwner(
    sid: string,
    decoded: NonNullable<ReturnType<typeof decodeSession>>,
  ): SessionOwner | undefined {
    if (!decoded.owner) return undefined;
    const owner: SessionOwner & { seal?: string } = decoded.owner;
    const { seal } = decoded.owner;
    // The owner as it was sealed, without the seal (written last: a cheap delete, no copy).
    delete owner.seal;
    return this.settings.seal.verify(sid, owner, seal) ? owner : undefined;
  }

  private encode(
    sid: string,
    data: object,
    owner: SessionOwner | undefined,
    fields?: string,
  ): string {
    const sealed = owner && { ...owner, seal: this.settings.seal.seal(sid, owner) };
    return encodeSession(data, sealed, fields);
  }
}

/**
 * Data loaded for `sid`: saved again (a caller's get, change, set), it is written only if the
 * session still exists (SET XX), so a session revoked meanwhile is not brought back.
 */
function markLoaded(data: object, sid: string): void {
  markStored(data);
  holdFor(data, sid);
}
