import type { SessionData } from 'express-session';
import type { LoginFields, SessionDevice } from '../options/login-fields.interface.js';

/**
 * A session as stored: exactly what connect-redis writes (express-session's data and cookie),
 * plus, for a session with an identity, its owner under OWNER_FIELD, sealed (see
 * owner-seals.ts). Other services see ordinary session data.
 */
export type StoredSessionData = SessionData & Record<string, unknown>;

/** Field of the stored JSON holding the sealed owner. */
export { OWNER_FIELD } from '../store/scripts.js';

/** Who a session belongs to, as the module records it beside the session's data. */
export interface SessionOwner {
  /** The identity the session is indexed under. */
  userId: string;
  /** `login`: bound by SessionLoginService.login; `identity`: read from the session's data. */
  via: 'login' | 'identity';
  /** Login time, ms epoch (Redis clock). */
  createdAt: number;
  /**
   * When the user last proved who they are (the login, or a re-authentication since), ms epoch
   * (Redis clock); absent on owners stored before it existed, which count from `createdAt`.
   */
  authenticatedAt?: number;
  ip?: string;
  userAgent?: string;
  /** `userAgent` parsed at login; absent on owners stored before it existed (parsed if listed). */
  device?: SessionDevice;
  /** What the app's `loginFields` hook added at login (display data: not sealed, like `ip`). */
  fields?: LoginFields;
  /** The user index lists this session until this time (ms, Redis clock); 0 until indexed. */
  indexedUntil: number;
}

/** An owner as stored: the record plus its seal. */
export type SealedOwner = SessionOwner & { seal: string };
