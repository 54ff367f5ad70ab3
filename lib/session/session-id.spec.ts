import type { Request } from 'express';
import { generateSessionId, maxAgeOfSessionId, requestSessionMaxAge } from './session-id.js';

describe('session ids', () => {
  const req = {} as Request;

  it('are 32 URL-safe random characters by default', () => {
    const sid = generateSessionId(req);
    expect(sid).toMatch(/^[\w-]{32}$/);
    expect(maxAgeOfSessionId(sid)).toBeUndefined();
    expect(generateSessionId(req)).not.toBe(sid);
  });

  it('carry a requested max-age for the next id only', () => {
    requestSessionMaxAge(req, 30 * 24 * 3600 * 1000);
    const remembered = generateSessionId(req);
    expect(maxAgeOfSessionId(remembered)).toBe(30 * 24 * 3600 * 1000);
    expect(maxAgeOfSessionId(generateSessionId(req))).toBeUndefined();
  });

  const random = 'a'.repeat(32);
  it.each([
    'abc.5',
    `${random}.`,
    `${random}.!!`,
    `${random}.-5`,
    `${random}.${'z'.repeat(11)}`,
    `x${random}.5`,
  ])('finds no max-age in %j', (sid) => {
    expect(maxAgeOfSessionId(sid)).toBeUndefined();
  });
});
