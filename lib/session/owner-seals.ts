import { hmacSha256, sameDigest } from '../util/hmac.js';
import { LruCache } from '../util/lru-cache.js';
import type { SessionOwner } from './stored-session.js';

/**
 * The fields of an owner its seal covers besides the tenant and the session id, in `digest`'s
 * order (which fixes the stored format, so it lists them itself).
 */
const SEALED_FIELDS = ['userId', 'via', 'createdAt', 'indexedUntil', 'authenticatedAt'] as const;
type SealedFields = Pick<SessionOwner, (typeof SEALED_FIELDS)[number]>;

interface VerifiedSeal {
  secrets: readonly string[];
  scope: string;
  sid: string;
  owner: SealedFields;
  /** Made by the first of `secrets`: the seal a save would make again. */
  current: boolean;
}

/**
 * Seals verified lately, process-wide, with what each one sealed and the secrets and tenant
 * scope that verified it: every request of a session checks the same seal, and a lookup and a
 * few comparisons cost a fraction of building the HMAC's input and finding its result. Bounded:
 * 4,096 entries, about 1 MB.
 */
const verifiedSeals = new LruCache<string, VerifiedSeal>(4096);

/**
 * The seal each owner object was read or written with. A save of a session whose owner did not
 * change since (most modifying requests) reuses it instead of computing the HMAC again, when
 * `verifiedSeals` says it is the current secret's seal of these very fields.
 */
const sealOfOwner = new WeakMap<SessionOwner, string>();

function sealedFieldsOf(owner: SessionOwner): SealedFields {
  return Object.fromEntries(SEALED_FIELDS.map((field) => [field, owner[field]])) as SealedFields;
}

/**
 * Whether two owners agree on every field a seal covers (SEALED_FIELDS, named one by one: a loop
 * over them reads each by a computed key, measurably slower on a path every request takes).
 */
function sealsTheSame(a: SealedFields, b: SealedFields): boolean {
  return (
    a.userId === b.userId &&
    a.via === b.via &&
    a.createdAt === b.createdAt &&
    a.indexedUntil === b.indexedUntil &&
    a.authenticatedAt === b.authenticatedAt
  );
}

/**
 * A tenant's seals of session owners: HMAC-SHA256 with its secrets over its session key prefix,
 * the session id and every field of the owner (SEALED_FIELDS), so an owner cannot be moved to
 * another session or tenant, nor any of its fields changed. Verified seals are kept process-wide
 * (a request of a session checks the seal the previous one did), and a save of an owner that
 * did not change reuses its seal.
 */
export class OwnerSeals {
  constructor(
    /** The first seals; all verify (rotation). */
    private readonly secrets: readonly string[],
    /** The tenant's session key prefix, sealed in: an owner is worthless in another tenant. */
    private readonly scope: string,
  ) {}

  /** The current secret's seal of the owner for this session (reused while it still holds). */
  seal(sid: string, owner: SessionOwner): string {
    const known = sealOfOwner.get(owner);
    if (known !== undefined && this.sealed(known, sid, owner)?.current) return known;
    const seal = this.digest(this.secrets[0], sid, owner);
    this.remember(seal, sid, owner, true);
    return seal;
  }

  /** Whether `seal` was made by any of the tenant's secrets (rotation keeps old ones valid). */
  verify(sid: string, owner: SessionOwner, seal: string): boolean {
    if (this.sealed(seal, sid, owner)) {
      sealOfOwner.set(owner, seal);
      return true;
    }
    const by = this.secrets.findIndex((secret) =>
      sameDigest(this.digest(secret, sid, owner), seal),
    );
    if (by < 0) return false;
    this.remember(seal, sid, owner, by === 0);
    return true;
  }

  /** What `verifiedSeals` knows of `seal`, when it is this tenant's seal of these fields. */
  private sealed(seal: string, sid: string, owner: SessionOwner): VerifiedSeal | undefined {
    const known = verifiedSeals.get(seal);
    return known?.secrets === this.secrets &&
      known.scope === this.scope &&
      known.sid === sid &&
      sealsTheSame(known.owner, owner)
      ? known
      : undefined;
  }

  /** Records a seal found or made for the owner's fields as they are now. */
  private remember(seal: string, sid: string, owner: SessionOwner, current: boolean): void {
    const fields = sealedFieldsOf(owner);
    verifiedSeals.set(seal, {
      secrets: this.secrets,
      scope: this.scope,
      sid,
      owner: fields,
      current,
    });
    sealOfOwner.set(owner, seal);
  }

  private digest(secret: string, sid: string, owner: SessionOwner): string {
    const sealed = [this.scope, sid, owner.userId, owner.via, owner.createdAt, owner.indexedUntil];
    // Appended only when present, so owners sealed before it existed still verify; a seal made
    // with it cannot verify without it.
    if (owner.authenticatedAt !== undefined) sealed.push(owner.authenticatedAt);
    return hmacSha256(secret, `tenant-session:owner:${JSON.stringify(sealed)}`, 'base64url');
  }
}
