/** Why sessions were revoked. */
export type RevocationReason =
  | 'session' // one session, by handle
  | 'user' // every session of a user
  | 'others' // every session of a user but the caller's
  | 'tenant' // every session of a tenant (off-boarding)
  | 'cap'; // oldest sessions past maxSessionsPerUser

/** Emitted after every revocation, for audit logs; on every instance of the app (see `remote`). */
export interface SessionRevokedEvent {
  tenant: string;
  /** Absent for tenant-wide revocation. */
  userId?: string;
  reason: RevocationReason;
  /** How many live sessions were removed. */
  revoked: number;
  /**
   * Handles of the sessions it went for (as listings show them; never session ids), those found
   * already gone included. Empty for a tenant-wide revocation: every session of the tenant.
   */
  sessions: string[];
  at: Date;
  /** Made by another instance of the app, and heard here through Redis pub/sub. */
  remote?: boolean;
}
