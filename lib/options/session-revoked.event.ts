/** Why sessions were revoked. */
export type RevocationReason =
  | 'session' // one session, by handle
  | 'user' // every session of a user
  | 'others' // every session of a user but the caller's
  | 'tenant' // every session of a tenant (off-boarding)
  | 'cap'; // oldest sessions past maxSessionsPerUser

/** Emitted after every revocation, for audit logs. */
export interface SessionRevokedEvent {
  tenant: string;
  /** Absent for tenant-wide revocation. */
  userId?: string;
  reason: RevocationReason;
  /** How many live sessions were removed. */
  revoked: number;
  at: Date;
}
