/** One live session of a user, as listed by SessionRevocationService. */
export interface ActiveSession {
  /** Opaque handle for revoking this session; never the session id. */
  id: string;
  /** Whether this is the session of the request that asked. */
  current: boolean;
  createdAt: Date;
  /** Derived from the remaining TTL: the time of the last request that used the session. */
  lastSeenAt: Date;
  expiresAt: Date;
  ip?: string;
  userAgent?: string;
}
