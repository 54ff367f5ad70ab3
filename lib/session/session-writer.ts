import { LoginRevokedException } from '../errors/login-revoked.exception.js';
import { SessionRevokedException } from '../errors/session-revoked.exception.js';
import { WrongTypeError } from '../errors/wrong-type.error.js';
import type { TenantKeys } from '../store/keys.js';
import type { OperationBudget } from '../store/operation-budget.js';
import type { SessionKeyStore } from '../store/session-key-store.interface.js';
import type { UserSessionIndex } from '../user-index/user-session-index.js';
import { ThrottledLogger } from '../util/throttled-logger.js';
import type { LoginFieldsRecorder } from './login-fields.js';
import { getRequestFacts, requestAgeMs } from './request-facts.js';
import { parseDevice } from './session-device.js';
import type { SessionLifecycle } from './session-lifecycle.js';
import type { SessionLifetime } from './session-lifetime.js';
import type { SessionOwnership } from './session-owner.js';
import {
  bindOwner,
  fieldsForSave,
  forget,
  forgetUnlessHeldFor,
  hasChanged,
  holdFor,
  isHeldFor,
  isPersisted,
  markSaveFailed,
  markStored,
  markTtlRestarted,
  ownerOf,
  storedValueOf,
  ttlRestartOf,
  unbindOwner,
} from './session-state.js';
import type { SessionOwner } from './stored-session.js';

/**
 * Writes one tenant's sessions and keeps each one's index entry with its identity: an identity
 * that appears is admitted (refused if the user was revoked since the request began), stored,
 * then confirmed; one that changes or goes is unindexed only after the session no longer claims
 * it. A session loaded from the store is saved with SET XX, so a request still in flight when its
 * session is revoked cannot write it back. Ordering replaces cross-key atomicity (see
 * user-index/user-session-index.ts).
 */
export class SessionWriter {
  /** Bad stored data repeats on every request that carries its cookie: said once a minute. */
  private readonly log = new ThrottledLogger('TenantSession', 60_000);

  constructor(
    /** The tenant and its deployment, as login and logout events name them. */
    private readonly place: { tenant: string; deployment: string },
    private readonly keys: TenantKeys,
    private readonly store: SessionKeyStore,
    private readonly index: UserSessionIndex,
    private readonly owners: SessionOwnership,
    private readonly lifetime: SessionLifetime,
    private readonly lifecycle: SessionLifecycle,
    private readonly loginFields: LoginFieldsRecorder,
  ) {}

  /**
   * Stores a session object: a request's `req.session` (`req` given), or an object of a
   * caller's own. Written again only when it changed (or when asked for an object outside a
   * request, `resave: true`).
   */
  async save(sid: string, session: object, budget: OperationBudget, req?: object): Promise<void> {
    // A request's session is that request's, under its one id; an object of the caller's own
    // may have been loaded or stored under another.
    if (!req) forgetUnlessHeldFor(session, sid);
    // express-session saves a session that regenerate() made once more as the response ends (it
    // loses track of the new object), though the login already stored it as it is.
    const fields = fieldsForSave(session);
    const unchanged = isPersisted(session) && !hasChanged(session, fields);
    if (req && unchanged && ttlRestartOf(session)?.by === 'write') return;
    try {
      await this.write(sid, session, fields, budget, req);
    } catch (error) {
      markSaveFailed(session);
      throw error;
    }
  }

  /**
   * Ends a session: removes its owner's index entry first, then deletes the key only if it still
   * holds the value that owner was read from (a value written in between is read again and
   * ended the same way, within the budget). The entry goes before the key, so an erase that
   * answers has removed, or seen removed, the entry of every value it deleted or found gone:
   * two logouts of one session, on any instances, answer only once it no longer serves, and a
   * failure between the steps leaves an unindexed key, which never serves. Ending a logged-in
   * session is a logout, confirmed by the replicas as a revocation is: the entry's removal
   * waits for them, and it must not come back in a failover. Told to the listeners once, by
   * the erase that deleted it.
   *
   * `loaded`: the value the caller loaded (a request's session), which saves reading it; one
   * that changed since costs one more pass (the deletion returns what the key holds), never a
   * wrong deletion.
   */
  async erase(sid: string, budget: OperationBudget, loaded?: string): Promise<void> {
    const key = this.keys.session(sid);
    try {
      let value = loaded ?? (await this.store.inspect([key], budget))[0].value;
      while (value !== null) {
        const owner = this.owners.ownerInStored(sid, value);
        if (owner) await this.index.remove(owner.userId, [sid], budget, true);
        const left = await this.store.removeIfHolds(key, value, budget);
        if (left === true) {
          if (owner) this.lifecycle.loggedOut({ ...this.place, userId: owner.userId, sid });
          return;
        }
        value = left;
      }
    } catch (error) {
      if (!(error instanceof WrongTypeError)) throw error;
      this.log.warn('Ignoring a key of the wrong Redis type at a session key');
    }
  }

  private async write(
    sid: string,
    session: object,
    fields: string,
    budget: OperationBudget,
    req?: object,
  ): Promise<void> {
    const expiry = this.lifetime.expiryOf(sid, session);
    const { ttlMs } = expiry;
    if (ttlMs <= 0) return this.erase(sid, budget, storedValueOf(session));
    const persisted = isPersisted(session);
    const current = ownerOf(session);
    const indexed = current && current.indexedUntil > 0 ? current : undefined;
    const identity = this.owners.identityOf(session);

    let owner: SessionOwner | undefined;
    let userSessions = 0;
    if (identity === undefined) {
      owner = undefined;
    } else if (indexed?.userId === identity) {
      owner = indexed;
      if (this.index.needsRenewal(owner.indexedUntil, ttlMs)) {
        const lease = await this.index.lease(identity, sid, ttlMs, budget);
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
      ({ owner, userSessions } = await this.admit(sid, identity, current, ttlMs, budget, req));
    }

    // `fields` (the session as the save was asked for) is what is written, also the baseline it
    // is marked stored with once the write succeeded: a change made meanwhile is still a change.
    const value = this.owners.encode(sid, session, owner, fields);
    const written = await this.store.write(
      {
        key: this.keys.session(sid),
        value,
        ...expiry,
        onlyIfExists: persisted,
        owner: owner && { userId: owner.userId, indexKey: this.keys.index(owner.userId), sid },
      },
      budget,
    );
    if (!written) throw new SessionRevokedException();
    // The session no longer claims its old user: a logout, confirmed by the replicas (and so
    // the write before it) as a revocation is, and told before a new login can be taken back.
    if (indexed && indexed.userId !== owner?.userId) {
      this.lifecycle.loggedOut({ ...this.place, userId: indexed.userId, sid });
      await this.index.remove(indexed.userId, [sid], budget, true);
    }
    if (owner && owner !== indexed) await this.confirm(sid, owner, budget, req);
    if (owner) bindOwner(session, owner);
    else unbindOwner(session);
    markStored(session, fields, value);
    markTtlRestarted(session, ttlMs, 'write');
    // An object of the caller's own (not a request's session, not loaded from here) stays
    // theirs: storing it again is a new upsert, however often they do it.
    if (req || isHeldFor(session, sid)) holdFor(session, sid);
    else forget(session);
    if (owner && owner !== indexed) {
      await this.lifecycle.loggedIn({ ...this.place, userId: owner.userId, userSessions, req });
    }
  }

  /** Admits a login (an identity that appeared), dated by its request's arrival. */
  private async admit(
    sid: string,
    userId: string,
    current: SessionOwner | undefined,
    ttlMs: number,
    budget: OperationBudget,
    req?: object,
  ): Promise<{ owner: SessionOwner; userSessions: number }> {
    const facts = getRequestFacts(req);
    // The listing data, parsed and asked of the app before the admission, so that the app's
    // hook never stands between a login's admission and its write.
    const client = this.owners.loginClient(userId, current, facts?.client ?? {});
    const device = parseDevice(client.userAgent);
    const fields = await this.loginFields.fieldsFor({
      tenant: this.place.tenant,
      userId,
      ...client,
      device,
    });
    const admission = await this.index.admit(userId, sid, ttlMs, requestAgeMs(facts), budget);
    if (!admission.admitted) throw new LoginRevokedException();
    const owner = this.owners.admitted(userId, current, admission, { ...client, device, fields });
    return { owner, userSessions: admission.entries };
  }

  /** A login's session is stored: if a revocation raced it, take the session back. */
  private async confirm(
    sid: string,
    owner: SessionOwner,
    budget: OperationBudget,
    req?: object,
  ): Promise<void> {
    const since = requestAgeMs(getRequestFacts(req));
    if (await this.index.confirm(owner.userId, sid, since, budget)) return;
    await this.store.remove([this.keys.session(sid)], budget);
    throw new LoginRevokedException();
  }
}
