import { leaseLengthMs, needsLeaseRenewal } from './index-lease.js';

describe('index lease', () => {
  const ttl = 1000;

  it('a fresh lease does not need renewal until less than 2 TTLs remain', () => {
    const lease = leaseLengthMs(ttl);
    expect(lease).toBe(3 * ttl);
    expect(needsLeaseRenewal(lease, 999, ttl)).toBe(false);
    expect(needsLeaseRenewal(lease, 1001, ttl)).toBe(true);
  });

  it('after any sequence of reads at most one TTL apart, the lease outlives the session', () => {
    // Simulates a session used at irregular intervals (each < TTL, or it would have expired).
    let lease = leaseLengthMs(ttl);
    let now = 0;
    for (const gap of [10, 999, 500, 999, 1, 999, 999, 250, 999, 999, 999]) {
      now += gap;
      const expiresAt = now + ttl; // what GETEX just set
      expect(lease).toBeGreaterThan(expiresAt);
      if (needsLeaseRenewal(lease, now, ttl)) lease = now + leaseLengthMs(ttl);
    }
  });

  it('the lease ends at most 2 TTLs after the session does', () => {
    const now = 5000;
    expect(now + leaseLengthMs(ttl) - (now + ttl)).toBe(2 * ttl);
  });
});
