import type { LoginFields, SessionDevice } from '../options/login-fields.interface.js';
import type { SessionIdentity } from '../options/tenant-session-options.interface.js';
import type { Admission } from '../store/user-index-store.interface.js';
import { normalizeUserId } from '../user-index/user-id.js';
import { ThrottledLogger } from '../util/throttled-logger.js';
import type { OwnerSeals } from './owner-seals.js';
import { decodeSession, encodeSession } from './session-codec.js';
import { bindOwner, markOwnerChanged, ownerOf } from './session-state.js';
import type { SessionOwner, StoredSessionData } from './stored-session.js';

/** The client a login came from, recorded with its owner (for listings). */
export interface LoginClient {
  ip?: string;
  userAgent?: string;
}

/** A login's client as its owner records it: with its device and the app's own fields. */
export interface RecordedClient extends LoginClient {
  device: SessionDevice;
  fields?: LoginFields;
}

/**
 * What stored JSON means to the tenant, by the rule every read applies: `owned` when its sealed
 * owner verifies and its data (or the login binding) claims that same user; `anonymous` when it
 * claims nobody (an owner it still carries is unindexed by its next save); `refused` when its
 * owner is there but does not verify (edited, or sealed with a secret this instance lacks), or
 * its data claims a user no owner vouches for (an identity written outside the module, or
 * another user than its owner's); `legacy`, on a tenant adopting legacy sessions, when its data
 * claims a user and it carries no owner at all (written by plain express-session), to be adopted
 * or refused by the user's index.
 */
export type Interpretation =
  | { verdict: 'owned'; data: StoredSessionData; owner: SessionOwner }
  | { verdict: 'anonymous'; data: StoredSessionData; owner?: SessionOwner }
  | { verdict: 'legacy'; data: StoredSessionData; userId: string }
  | { verdict: 'refused'; data: StoredSessionData };

/** The longest user agent kept with a session's listing data (longer ones are cut). */
export const MAX_USER_AGENT_LENGTH = 512;

/** An adopted session's owner is dated at the epoch (see `adopted`); a login's never is. */
function isAdopted(owner: SessionOwner): boolean {
  return owner.createdAt === 0;
}

/**
 * Who a session belongs to, in one place: the owner record kept beside `req.session` (never in
 * the app's view of it), sealed into the stored JSON (HMAC-SHA256 with the tenant's secrets, see
 * owner-seals.ts), so an owner this module did not write (app data copying an `_owner`, another
 * service writing the JSON) verifies as nothing. The seal covers the session's key, so an owner
 * cannot be moved to another session or tenant, and every field, so neither the user, nor the
 * lease, nor a recent authentication can be claimed.
 */
export class SessionOwnership {
  /** Bad stored data repeats on every request that carries its cookie: said once a minute. */
  private readonly log = new ThrottledLogger('TenantSession', 60_000);

  constructor(
    private readonly seals: OwnerSeals,
    private readonly identity: SessionIdentity,
    /** The store clock (ms): authentication times are the Redis server's. */
    private readonly now: () => number,
    /** The end of the tenant's legacy-session adoption window (ms epoch), if it adopts. */
    private readonly adoptUntil?: number,
  ) {}

  /** What stored JSON means (see Interpretation); undefined when corrupt (logged). */
  interpret(sid: string, raw: string): Interpretation | undefined {
    const decoded = decodeSession(raw);
    if (!decoded) {
      this.log.warn('Ignoring corrupt session data');
      return undefined;
    }
    const { data } = decoded;
    const sealed = decoded.owner;
    const owner = sealed && this.verified(sid, sealed);
    if (!owner && (sealed !== undefined || decoded.unsealed === true)) {
      this.log.warn('Refusing a session whose owner does not verify (edited, or another secret)');
      return { verdict: 'refused', data };
    }
    const claimed = owner?.via === 'login' ? owner.userId : normalizeUserId(this.identity(data));
    if (claimed === undefined) return { verdict: 'anonymous', data, owner };
    if (owner?.userId === claimed) {
      if (!isAdopted(owner) || this.now() < (this.adoptUntil ?? -Infinity)) {
        return { verdict: 'owned', data, owner };
      }
      // Its id carries no absolute deadline: the adoption window is its absolute lifetime.
      this.log.warn('Refusing an adopted session: its adoption window has ended');
      return { verdict: 'refused', data };
    }
    if (this.adoptUntil !== undefined && sealed === undefined) {
      return { verdict: 'legacy', data, userId: claimed };
    }
    this.log.warn('Refusing a session whose data names a user its owner does not vouch for');
    return { verdict: 'refused', data };
  }

  /** The owner sealed into stored JSON, when it verifies (what a deletion unindexes). */
  ownerInStored(sid: string, raw: string): SessionOwner | undefined {
    const sealed = decodeSession(raw)?.owner;
    return sealed && this.verified(sid, sealed);
  }

  /** The session's JSON for storage, its owner sealed in; see encodeSession for `fields`. */
  encode(sid: string, data: object, owner: SessionOwner | undefined, fields?: string): string {
    const sealed = owner && { ...owner, seal: this.seals.seal(sid, owner) };
    return encodeSession(data, sealed, fields);
  }

  /** Who the session belongs to: the user `login()` bound, else the `identity` option's answer. */
  identityOf(session: object | null | undefined): string | undefined {
    if (!session) return undefined;
    const owner = ownerOf(session);
    if (owner?.via === 'login') return owner.userId;
    return normalizeUserId(this.identity(session as StoredSessionData));
  }

  /** The owner the session is indexed under, while its data still claims that identity. */
  indexedOwner(session: object | null | undefined): SessionOwner | undefined {
    const owner = ownerOf(session);
    if (!owner || owner.indexedUntil <= 0) return undefined;
    return this.identityOf(session) === owner.userId ? owner : undefined;
  }

  /** Binds a freshly regenerated session to `userId` (a login); indexed by its next save. */
  bindLogin(session: object, userId: string, client: LoginClient): void {
    bindOwner(session, {
      userId,
      via: 'login',
      createdAt: 0,
      ip: client.ip,
      userAgent: client.userAgent?.slice(0, MAX_USER_AGENT_LENGTH),
      indexedUntil: 0,
    });
  }

  /** The client of a login: the one `login()` bound for this user, else the request's. */
  loginClient(userId: string, current: SessionOwner | undefined, client: LoginClient): LoginClient {
    if (current?.via !== 'login' || current.userId !== userId) {
      return { ip: client.ip, userAgent: client.userAgent?.slice(0, MAX_USER_AGENT_LENGTH) };
    }
    return { ip: current.ip, userAgent: current.userAgent };
  }

  /**
   * The owner of a login its user's index just admitted: `current` is what `login()` bound, if
   * it bound this user; otherwise the identity came from the session's data. `client` is what
   * `loginClient` gave, with its device and fields.
   */
  admitted(
    userId: string,
    current: SessionOwner | undefined,
    admission: Extract<Admission, { admitted: true }>,
    client: RecordedClient,
  ): SessionOwner {
    const bound = current?.via === 'login' && current.userId === userId;
    return {
      userId,
      via: bound ? 'login' : 'identity',
      createdAt: admission.now,
      authenticatedAt: admission.now,
      ip: client.ip,
      userAgent: client.userAgent,
      device: client.device,
      ...(client.fields ? { fields: client.fields } : {}),
      indexedUntil: admission.until,
    };
  }

  /**
   * The owner of a legacy session its user's index just adopted. Its login time is unknown: it
   * is dated at the epoch, so it never counts as a recent login (`@RequireRecentLogin`), and it
   * serves only until the adoption window ends (its id carries no absolute deadline).
   */
  adopted(userId: string, indexedUntil: number): SessionOwner {
    return { userId, via: 'identity', createdAt: 0, authenticatedAt: 0, indexedUntil };
  }

  /**
   * Records that the app re-checked the credentials of the session's user just now (step-up),
   * sealed into its owner on the next save. The time (ms, store clock), or undefined when the
   * session has no indexed identity.
   */
  recordAuthentication(session: object): number | undefined {
    const owner = this.indexedOwner(session);
    if (!owner) return undefined;
    owner.authenticatedAt = Math.round(this.now());
    markOwnerChanged(session);
    return owner.authenticatedAt;
  }

  /** When the session's user last proved who they are (ms, store clock); undefined if nobody. */
  authenticatedAt(session: object | null | undefined): number | undefined {
    const owner = this.indexedOwner(session);
    return owner && (owner.authenticatedAt ?? owner.createdAt);
  }

  /** How long ago that was, by the store clock estimate (app clocks need not agree). */
  msSinceAuthentication(session: object | null | undefined): number | undefined {
    const at = this.authenticatedAt(session);
    return at === undefined ? undefined : this.now() - at;
  }

  /** A stored owner without its seal, when the seal verifies. */
  private verified(
    sid: string,
    sealed: SessionOwner & { seal?: string },
  ): SessionOwner | undefined {
    // The owner as it was sealed, without the seal: a copy, not a delete, which would leave the
    // object in V8's slow dictionary mode for every later use.
    const { seal, ...owner } = sealed;
    return seal !== undefined && this.seals.verify(sid, owner, seal) ? owner : undefined;
  }
}
