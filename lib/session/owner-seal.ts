import { hmacSha256, sameDigest } from './hmac.js';
import type { SessionOwner } from './session-state.js';

/**
 * Seals the owner stored with a session (HMAC-SHA256 with the tenant's cookie secrets), so a
 * binding this library did not write (app data that copied an `_owner` field, another service
 * writing the JSON) is ignored on read. The seal covers the session's key, so an owner cannot be
 * moved to another session or tenant, the lease, so it cannot be stretched past the index, and
 * the last authentication time, so a recent login cannot be claimed.
 */
export class OwnerSeal {
  constructor(
    private readonly secrets: string[],
    private readonly scope: string,
  ) {}

  seal(sid: string, owner: SessionOwner): string {
    return this.digest(this.secrets[0], sid, owner);
  }

  /** Whether `seal` was made by any of the tenant's secrets (rotation keeps old ones valid). */
  verify(sid: string, owner: SessionOwner, seal: string): boolean {
    return this.secrets.some((secret) => sameDigest(this.digest(secret, sid, owner), seal));
  }

  private digest(secret: string, sid: string, owner: SessionOwner): string {
    const sealed = [this.scope, sid, owner.userId, owner.via, owner.createdAt, owner.indexedUntil];
    // Appended only when present, so owners sealed before it existed still verify; a seal made
    // with it cannot verify without it.
    if (owner.authenticatedAt !== undefined) sealed.push(owner.authenticatedAt);
    return hmacSha256(secret, `tenant-session:owner:${JSON.stringify(sealed)}`, 'base64url');
  }
}
