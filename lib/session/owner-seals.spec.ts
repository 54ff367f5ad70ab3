import { OwnerSeals } from './owner-seals.js';
import type { SessionOwner } from './stored-session.js';

const owner: SessionOwner = { userId: 'alice', via: 'login', createdAt: 1, indexedUntil: 2 };
const OLD = 'old-secret-0123456789abcdef';
const NEW = 'new-secret-0123456789abcdef';
const SCOPE = 'sessions:acme:app:';
const sealsOf = (secrets = [NEW, OLD], scope = SCOPE) => new OwnerSeals(secrets, scope);

describe('OwnerSeals', () => {
  const seals = sealsOf();

  it('verifies what it sealed, for that session only', () => {
    const s = seals.seal('sid-1', owner);
    expect(seals.verify('sid-1', owner, s)).toBe(true);
    expect(seals.verify('sid-2', owner, s)).toBe(false);
  });

  it.each([
    ['another user', { userId: 'admin' }],
    ['a longer lease', { indexedUntil: 9e12 }],
    ['another origin', { via: 'identity' as const }],
    ['a recent authentication', { authenticatedAt: 5 }],
  ])('refuses a sealed owner changed to %s', (_, change) => {
    const sealed = seals.seal('sid-1', owner);
    expect(seals.verify('sid-1', { ...owner, ...change }, sealed)).toBe(false);
  });

  it('refuses a seal from another tenant and accepts one from a rotated-out secret', () => {
    const globex = sealsOf([NEW], 'sessions:globex:app:');
    expect(seals.verify('sid-1', owner, globex.seal('sid-1', owner))).toBe(false);
    const before = sealsOf([OLD]);
    expect(seals.verify('sid-1', owner, before.seal('sid-1', owner))).toBe(true);
  });

  it('refuses, once it verified a seal, that seal for anything it does not cover', () => {
    // Tenants given the module's secrets share one array of them.
    const secrets = [NEW, OLD];
    const acme = sealsOf(secrets);
    const sealed = sealsOf([OLD]).seal('sid-1', owner);
    expect(acme.verify('sid-1', owner, sealed)).toBe(true);
    // Each of these is checked again, not taken from what was verified.
    expect(sealsOf([NEW]).verify('sid-1', owner, sealed)).toBe(false);
    expect(sealsOf(secrets, 'sessions:globex:app:').verify('sid-1', owner, sealed)).toBe(false);
    expect(acme.verify('sid-2', owner, sealed)).toBe(false);
    expect(acme.verify('sid-1', { ...owner, authenticatedAt: 5 }, sealed)).toBe(false);
    expect(acme.verify('sid-1', { ...owner, indexedUntil: 3 }, sealed)).toBe(false);
    expect(acme.verify('sid-1', { ...owner }, sealed)).toBe(true);
  });

  describe('a save reuses the seal its owner was read with only while it would make it again', () => {
    /** The seal a fresh instance computes (its own secrets array: nothing known to reuse). */
    const computed = (secrets: string[], sid: string, o: SessionOwner) =>
      sealsOf([...secrets]).seal(sid, o);

    it('an unchanged owner read with the current secret keeps its seal', () => {
      const read = { ...owner };
      const stored = computed([NEW], 'sid-1', owner);
      expect(seals.verify('sid-1', read, stored)).toBe(true);
      expect(seals.seal('sid-1', read)).toBe(stored);
    });

    it('an owner changed since it was read is sealed again', () => {
      const read = { ...owner };
      expect(seals.verify('sid-1', read, computed([NEW], 'sid-1', owner))).toBe(true);
      read.indexedUntil = 7;
      const resealed = seals.seal('sid-1', read);
      expect(resealed).toBe(computed([NEW], 'sid-1', read));
      expect(seals.verify('sid-1', { ...owner }, resealed)).toBe(false);
    });

    it('an owner read with a rotated-out secret is sealed with the current one', () => {
      const read = { ...owner };
      const before = computed([OLD], 'sid-1', owner);
      expect(seals.verify('sid-1', read, before)).toBe(true);
      const resealed = seals.seal('sid-1', read);
      expect(resealed).not.toBe(before);
      expect(sealsOf([NEW]).verify('sid-1', read, resealed)).toBe(true);
    });

    it('another session or tenant never reuses it', () => {
      const read = { ...owner };
      expect(seals.verify('sid-1', read, computed([NEW], 'sid-1', owner))).toBe(true);
      expect(seals.seal('sid-2', read)).toBe(computed([NEW], 'sid-2', owner));
      const globex = sealsOf([NEW, OLD], 'sessions:globex:app:');
      expect(
        sealsOf([NEW], 'sessions:globex:app:').verify('sid-1', read, globex.seal('sid-1', read)),
      ).toBe(true);
    });
  });

  it('refuses garbage', () => {
    expect(seals.verify('sid-1', owner, '')).toBe(false);
    expect(seals.verify('sid-1', owner, 'x'.repeat(43))).toBe(false);
  });
});
