import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import type { SessionEvent } from './session-event.js';
import { SocketWatches, type Watch } from './socket-watches.js';

function watch(tenant: string, handle: string, userId: string): Watch {
  return {
    tenant,
    sid: `sid-${handle}`,
    handle,
    userId,
    sockets: new Set(),
    expiresAt: 0,
    failedChecks: 0,
    ended: false,
  };
}

const logout = (tenant: string, userId: string): SessionEvent => ({
  type: 'logout',
  tenant,
  userId,
  sessions: [],
  at: new Date(),
});

const tenantRevoked = (tenant: string): SessionEvent => ({
  type: 'revoked',
  tenant,
  sessions: [],
  reason: 'tenant',
  revoked: 0,
  at: new Date(),
});

describe('SocketWatches', () => {
  it('finds a watch by its handle, its user and its tenant, each within its tenant', () => {
    const watches = new SocketWatches();
    const a = watch('acme', 'h1', 'alice');
    const b = watch('acme', 'h2', 'alice');
    const c = watch('globex', 'h1', 'alice');
    [a, b, c].forEach((w) => watches.add(w));

    expect(watches.get('acme', 'h1')).toBe(a);
    expect(watches.get('globex', 'h1')).toBe(c);
    expect(watches.get('acme', 'h3')).toBeUndefined();
    expect(watches.ofUser('acme', 'alice')).toEqual([a, b]);
    expect(watches.ofUser('globex', 'alice')).toEqual([c]);
    expect(watches.ofTenant('acme')).toEqual([a, b]);
    expect(watches.all()).toEqual([a, b, c]);
  });

  it('forgets a removed watch everywhere, marks it ended and stops its timer', async () => {
    const watches = new SocketWatches();
    const a = watch('acme', 'h1', 'alice');
    let fired = false;
    a.timer = setTimeout(() => (fired = true), 5);
    watches.add(a);

    watches.remove(a);
    await sleep(15);

    expect(a.ended).toBe(true);
    expect(fired).toBe(false);
    expect(watches.get('acme', 'h1')).toBeUndefined();
    expect(watches.ofUser('acme', 'alice')).toEqual([]);
    expect(watches.ofTenant('acme')).toEqual([]);
  });

  it('leaves the watch that replaced a removed one under the same handle', () => {
    const watches = new SocketWatches();
    const old = watch('acme', 'h1', 'alice');
    const replacement = watch('acme', 'h1', 'alice');
    watches.add(old);
    watches.add(replacement);

    watches.remove(old);

    expect(watches.get('acme', 'h1')).toBe(replacement);
    expect(watches.ofUser('acme', 'alice')).toEqual([replacement]);
  });

  it('forgets every watch and stops every timer on clear', async () => {
    const watches = new SocketWatches();
    const a = watch('acme', 'h1', 'alice');
    let fired = false;
    a.timer = setTimeout(() => (fired = true), 5);
    watches.add(a);

    watches.clear();
    await sleep(15);

    expect(fired).toBe(false);
    expect(watches.all()).toEqual([]);
    expect(watches.ofTenant('acme')).toEqual([]);
  });

  describe("endedSince: whether an event for a watch's user or tenant came after a read", () => {
    it("is true for an event for the watch's user or its whole tenant since the read", () => {
      const watches = new SocketWatches();
      const a = watch('acme', 'h1', 'alice');
      const readAt = performance.now();

      expect(watches.endedSince(a, readAt)).toBe(false);
      watches.remember(logout('acme', 'alice'));
      expect(watches.endedSince(a, readAt)).toBe(true);

      const b = watch('globex', 'h2', 'bob');
      watches.remember(tenantRevoked('globex'));
      expect(watches.endedSince(b, readAt)).toBe(true);
    });

    it('is false for an event before the read, or for another user or tenant', async () => {
      const watches = new SocketWatches();
      const a = watch('acme', 'h1', 'alice');
      watches.remember(logout('acme', 'alice'));
      await sleep(2);
      const readAt = performance.now();

      watches.remember(logout('acme', 'bob'));
      watches.remember(logout('globex', 'alice'));
      watches.remember(tenantRevoked('globex'));

      expect(watches.endedSince(a, readAt)).toBe(false);
    });

    it('counts the latest event for a user, not the first', async () => {
      const watches = new SocketWatches();
      const a = watch('acme', 'h1', 'alice');
      watches.remember(logout('acme', 'alice'));
      await sleep(2);
      const readAt = performance.now();
      watches.remember(logout('acme', 'alice'));

      expect(watches.endedSince(a, readAt)).toBe(true);
    });
  });

  describe("recentReason: what the latest event for a watch's user or tenant announced", () => {
    const userRevoked = (tenant: string, userId: string): SessionEvent => ({
      type: 'revoked',
      tenant,
      userId,
      sessions: [],
      reason: 'user',
      revoked: 1,
      at: new Date(),
    });

    it('is undefined when no event came: the session went without a word', () => {
      const watches = new SocketWatches();
      watches.remember(logout('acme', 'bob'));
      expect(watches.recentReason(watch('acme', 'h1', 'alice'))).toBeUndefined();
    });

    it("is the latest event's end, whether for the user or the whole tenant", async () => {
      const watches = new SocketWatches();
      const a = watch('acme', 'h1', 'alice');
      watches.remember(logout('acme', 'alice'));
      expect(watches.recentReason(a)).toBe('logout');
      await sleep(2);
      watches.remember(userRevoked('acme', 'alice'));
      expect(watches.recentReason(a)).toBe('revoked');
      await sleep(2);
      watches.remember(logout('acme', 'alice'));
      await sleep(2);
      watches.remember(tenantRevoked('acme'));
      expect(watches.recentReason(a)).toBe('revoked');
    });
  });
});
