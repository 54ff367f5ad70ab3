/**
 * The rule that keeps per-user indexes exact without a write per request.
 *
 * Reads restart a session's TTL but write its index entry only now and then. Each entry
 * therefore carries an "indexed until" time, a lease, set to now + 3 × TTL whenever the session
 * is indexed, and renewed on a read that finds less than 2 × TTL left. Since a live session was last used
 * less than one TTL ago, its lease then still had more than 2 × TTL, so after any read the
 * lease outlives the session's new expiry: entries past their lease belong to dead sessions and
 * can be dropped by score, and the index key, which expires with its highest lease, is gone at
 * most 2 × TTL after the user's last session. Leases are Redis-clock times (set by the scripts);
 * the renewal decision reads the Redis clock estimate, so app clocks need not agree.
 */
const LEASE_TTLS = 3;
const RENEW_BELOW_TTLS = 2;

/** How long a lease granted now lasts. */
export function leaseLengthMs(ttlMs: number): number {
  return LEASE_TTLS * ttlMs;
}

/** A lease with less than this left is renewed by the read (or write) that finds it. */
export function renewBelowMs(ttlMs: number): number {
  return RENEW_BELOW_TTLS * ttlMs;
}

export function needsLeaseRenewal(indexedUntil: number, now: number, ttlMs: number): boolean {
  return indexedUntil < now + renewBelowMs(ttlMs);
}
