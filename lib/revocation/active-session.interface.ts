import type { LoginFields, SessionDevice } from '../options/login-fields.interface.js';

/** One live session of a user, as listed by SessionRevocationService. */
export interface ActiveSession {
  /** Opaque handle for revoking this session; never the session id. */
  id: string;
  /** Whether this is the session of the request that asked. */
  current: boolean;
  /** The login. */
  createdAt: Date;
  /** When the user last proved who they are: the login, or a re-authentication since. */
  authenticatedAt: Date;
  /**
   * Derived from the remaining TTL: the time of the last request that used the session (a lower
   * bound once its TTL is cut short by the absolute deadline).
   */
  lastSeenAt: Date;
  /** When it ends unless used again. */
  expiresAt: Date;
  /** When it ends whatever happens (its absolute lifetime); absent on ids made elsewhere. */
  absoluteExpiresAt?: Date;
  /** The client address at login, an IPv4-mapped IPv6 one as IPv4 (`127.0.0.1`). */
  ip?: string;
  /** The raw `User-Agent` at login (at most 512 characters). */
  userAgent?: string;
  /**
   * Browser, OS and kind of device, parsed from `userAgent` at login (for a session stored
   * before 1.0, parsed when listed); `{ type: 'unknown' }` without a user agent.
   */
  device: SessionDevice;
  /** What the `loginFields` hook added at login; absent without one, or when it failed. */
  fields?: LoginFields;
}
