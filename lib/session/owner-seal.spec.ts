import { OwnerSeal } from './owner-seal.js';

const owner = { userId: 'alice', via: 'login' as const, createdAt: 1, indexedUntil: 2 };
const OLD = 'old-secret-0123456789abcdef';
const NEW = 'new-secret-0123456789abcdef';

describe('owner seal', () => {
  const seal = new OwnerSeal([NEW, OLD], 'sessions:acme:app:');

  it('verifies what it sealed, for that session only', () => {
    const s = seal.seal('sid-1', owner);
    expect(seal.verify('sid-1', owner, s)).toBe(true);
    expect(seal.verify('sid-2', owner, s)).toBe(false);
  });

  it.each([
    ['another user', { userId: 'admin' }],
    ['a longer lease', { indexedUntil: 9e12 }],
    ['another origin', { via: 'identity' as const }],
  ])('refuses a sealed owner changed to %s', (_, change) => {
    expect(seal.verify('sid-1', { ...owner, ...change }, seal.seal('sid-1', owner))).toBe(false);
  });

  it('refuses a seal from another tenant and accepts one from a rotated-out secret', () => {
    const globex = new OwnerSeal([NEW], 'sessions:globex:app:');
    expect(seal.verify('sid-1', owner, globex.seal('sid-1', owner))).toBe(false);
    const before = new OwnerSeal([OLD], 'sessions:acme:app:');
    expect(seal.verify('sid-1', owner, before.seal('sid-1', owner))).toBe(true);
  });

  it('refuses garbage', () => {
    expect(seal.verify('sid-1', owner, '')).toBe(false);
    expect(seal.verify('sid-1', owner, 'x'.repeat(43))).toBe(false);
  });
});
