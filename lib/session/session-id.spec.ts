import type { Request } from 'express';
import {
  deadlineOfSessionId,
  generateSessionId,
  maxAgeOfSessionId,
  requestSessionId,
} from './session-id.js';

describe('session ids', () => {
  const req = {} as Request;
  const now = Date.UTC(2026, 10, 27, 12);
  const day = 24 * 3600 * 1000;

  it('are 32 URL-safe random characters and the absolute deadline', () => {
    const sid = generateSessionId(req, now, day);
    expect(sid).toMatch(/^[\w-]{32}~[0-9a-z]+$/);
    expect(maxAgeOfSessionId(sid)).toBeUndefined();
    expect(deadlineOfSessionId(sid)).toBe(now + day);
    expect(generateSessionId(req, now, day)).not.toBe(sid);
  });

  it('round the deadline up to the second, never earlier than asked', () => {
    expect(deadlineOfSessionId(generateSessionId(req, now + 1, day))).toBe(now + day + 1000);
  });

  it("carry a login's own max-age and lifetime for the next id only", () => {
    requestSessionId(req, { maxAgeMs: 30 * day, lifetimeMs: 30 * day });
    const remembered = generateSessionId(req, now, day);
    expect(maxAgeOfSessionId(remembered)).toBe(30 * day);
    expect(deadlineOfSessionId(remembered)).toBe(now + 30 * day);
    const next = generateSessionId(req, now, day);
    expect(maxAgeOfSessionId(next)).toBeUndefined();
    expect(deadlineOfSessionId(next)).toBe(now + day);
  });

  it('read ids made before deadlines existed (and by other services) as having none', () => {
    const random = 'a'.repeat(32);
    expect(deadlineOfSessionId(random)).toBeUndefined();
    expect(deadlineOfSessionId(`${random}.5`)).toBeUndefined();
    expect(maxAgeOfSessionId(`${random}.5`)).toBe(5);
  });

  const random = 'a'.repeat(32);
  it.each([
    'abc.5',
    `${random}.`,
    `${random}.!!`,
    `${random}.-5`,
    `${random}.${'z'.repeat(11)}`,
    `x${random}.5`,
    `${random}~`,
    `${random}~5.5`,
  ])('finds no max-age and no deadline in %j', (sid) => {
    expect(maxAgeOfSessionId(sid)).toBeUndefined();
    expect(deadlineOfSessionId(sid)).toBeUndefined();
  });
});
