import { setTimeout as sleep } from 'node:timers/promises';
import { generateSessionId, requestSessionId } from './session-id.js';
import { SessionLifetime } from './session-lifetime.js';
import { holdFor, markTtlRestarted } from './session-state.js';

const IDLE_MS = 60_000;
/** A whole second, so the deadlines ids carry (whole seconds) fall exactly where asked. */
const NOW = 1_764_000_000_000;
const PLAIN_SID = 'a'.repeat(32);

const lifetime = (now = NOW) => new SessionLifetime(IDLE_MS, () => now);

/** A session id as a login makes it: its own max-age and absolute lifetime, from NOW. */
function sessionId(lifetimeMs: number, maxAgeMs?: number): string {
  const req = {};
  requestSessionId(req, { maxAgeMs });
  return generateSessionId(req, NOW, lifetimeMs);
}

describe('SessionLifetime', () => {
  describe('expectedExpiry: the expiry a read restarts before it has the data', () => {
    it("is the tenant's idle TTL for an id that carries nothing (made by another service)", () => {
      expect(lifetime().expectedExpiry(PLAIN_SID)).toEqual({ ttlMs: IDLE_MS });
    });

    it('is the max-age the id carries ("remember me")', () => {
      expect(lifetime().expectedExpiry(sessionId(3600_000 * 24 * 30, 7 * 24 * 3600_000))).toEqual({
        ttlMs: 7 * 24 * 3600_000,
      });
    });

    it('is cut short at the absolute deadline the id carries, and then expires at it', () => {
      const sid = sessionId(3600_000);
      const later = lifetime(NOW + 3600_000 - 10_000);
      expect(later.expectedExpiry(sid)).toEqual({ ttlMs: 10_000, expiresAt: NOW + 3600_000 });
    });

    it('is zero or less once the deadline has passed', () => {
      const sid = sessionId(3600_000);
      expect(lifetime(NOW + 3600_000 + 1000).expectedExpiry(sid).ttlMs).toBeLessThanOrEqual(0);
    });
  });

  describe('the key expires at an instant, not after a TTL, when the deadline is near', () => {
    // A TTL is counted from when Redis runs the command: one sent late would carry the key past
    // the deadline by the delay. An instant (PXAT) does not move.
    it('is a plain idle TTL while the deadline lies a minute or more beyond it', () => {
      const sid = sessionId(IDLE_MS + 60_000);
      expect(lifetime().expectedExpiry(sid)).toEqual({ ttlMs: IDLE_MS });
    });

    it('is the idle TTL as an instant by the store clock when it ends within a minute of the deadline', () => {
      const sid = sessionId(IDLE_MS + 30_000);
      expect(lifetime().expectedExpiry(sid)).toEqual({
        ttlMs: IDLE_MS,
        expiresAt: NOW + IDLE_MS,
      });
    });

    it('is the deadline itself once the deadline comes before the idle TTL ends', () => {
      const sid = sessionId(IDLE_MS - 1000);
      expect(lifetime(NOW + 500).expectedExpiry(sid)).toEqual({
        ttlMs: IDLE_MS - 1500,
        expiresAt: NOW + IDLE_MS - 1000,
      });
    });

    it('applies to the TTL a session gets from its own data too', () => {
      const sid = sessionId(30_000);
      expect(lifetime().expiryOf(sid, { cookie: { originalMaxAge: 3600_000 } })).toEqual({
        ttlMs: 30_000,
        expiresAt: NOW + 30_000,
      });
    });
  });

  describe('ttlOf: the TTL a session gets from its own data', () => {
    it("is its cookie's max-age, else the idle TTL", () => {
      expect(lifetime().ttlOf(PLAIN_SID, { cookie: { originalMaxAge: 5000 } })).toBe(5000);
      expect(lifetime().ttlOf(PLAIN_SID, { cookie: {} })).toBe(IDLE_MS);
      expect(lifetime().ttlOf(PLAIN_SID, {})).toBe(IDLE_MS);
    });

    it('lives until the expiry date of a cookie without a max-age (data built by hand)', () => {
      const expires = new Date(Date.now() + 30_000).toISOString();
      const ttl = lifetime().ttlOf(PLAIN_SID, { cookie: { originalMaxAge: null, expires } });
      expect(ttl).toBeGreaterThan(29_000);
      expect(ttl).toBeLessThanOrEqual(30_000);
      const passed = new Date(Date.now() - 1).toISOString();
      expect(lifetime().ttlOf(PLAIN_SID, { cookie: { expires: passed } })).toBeLessThanOrEqual(0);
    });

    it('never reaches past the absolute deadline of the id', () => {
      const sid = sessionId(30_000);
      expect(lifetime().ttlOf(sid, { cookie: { originalMaxAge: 3600_000 } })).toBe(30_000);
    });
  });

  it("tells TTLs apart only beyond express-session's rounding (1 s)", () => {
    const ttl = lifetime();
    expect(ttl.differ(60_000, 59_001)).toBe(false);
    expect(ttl.differ(60_000, 58_999)).toBe(true);
    expect(ttl.differ(60_000, 61_001)).toBe(true);
  });

  describe('touchIsDue: whether a touch would send anything', () => {
    const session = (maxAgeMs: number) => ({ cookie: { originalMaxAge: maxAgeMs } });

    it('is not due right after this session’s TTL was restarted with the same value', () => {
      const s = session(IDLE_MS);
      holdFor(s, PLAIN_SID);
      markTtlRestarted(s, IDLE_MS, 'read');
      expect(lifetime().touchIsDue(PLAIN_SID, s)).toBe(false);
    });

    it('is due when nothing restarted the TTL yet', () => {
      expect(lifetime().touchIsDue(PLAIN_SID, session(IDLE_MS))).toBe(true);
    });

    it('is due when the restart was recorded for another session id', () => {
      const s = session(IDLE_MS);
      holdFor(s, 'b'.repeat(32));
      markTtlRestarted(s, IDLE_MS, 'read');
      expect(lifetime().touchIsDue(PLAIN_SID, s)).toBe(true);
    });

    it('is due when the session’s max-age changed since the restart', () => {
      const s = session(IDLE_MS);
      holdFor(s, PLAIN_SID);
      markTtlRestarted(s, IDLE_MS, 'read');
      s.cookie.originalMaxAge = 2 * IDLE_MS;
      expect(lifetime().touchIsDue(PLAIN_SID, s)).toBe(true);
    });

    it('is due once more than 1 % of the TTL has passed since the restart', async () => {
      const s = session(1000);
      holdFor(s, PLAIN_SID);
      markTtlRestarted(s, 1000, 'write');
      expect(lifetime().touchIsDue(PLAIN_SID, s)).toBe(false);
      await sleep(20);
      expect(lifetime().touchIsDue(PLAIN_SID, s)).toBe(true);
    });
  });
});
