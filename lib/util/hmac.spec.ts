import { createHmac } from 'node:crypto';
import { hmacSha256, sameDigest } from './hmac.js';

describe('hmacSha256', () => {
  it('is the HMAC-SHA256 of the payload under the secret, computed or remembered', () => {
    for (const encoding of ['base64', 'base64url'] as const) {
      const expected = createHmac('sha256', 'secret-a').update('payload').digest(encoding);
      expect(hmacSha256('secret-a', 'payload', encoding)).toBe(expected);
      expect(hmacSha256('secret-a', 'payload', encoding)).toBe(expected);
    }
  });

  it('never answers for another secret or payload with a remembered result', () => {
    const a = hmacSha256('secret-a', 'payload', 'base64url');
    expect(hmacSha256('secret-b', 'payload', 'base64url')).not.toBe(a);
    expect(hmacSha256('secret-a', 'payload2', 'base64url')).not.toBe(a);
    // Characters moved between secret and payload make another HMAC, never a remembered one.
    const split = hmacSha256('secret-a', 'payload', 'base64');
    expect(hmacSha256('secret-ap', 'ayload', 'base64')).toBe(
      createHmac('sha256', 'secret-ap').update('ayload').digest('base64'),
    );
    expect(hmacSha256('secret-ap', 'ayload', 'base64')).not.toBe(split);
  });
});

describe('sameDigest', () => {
  it('is true for equal digests only, whatever differs (a character, the length, the case)', () => {
    const digest = hmacSha256('secret-a', 'payload', 'base64url');
    expect(sameDigest(digest, `${digest}`)).toBe(true);
    expect(sameDigest(digest, `${digest.slice(0, -1)}${digest.endsWith('A') ? 'B' : 'A'}`)).toBe(
      false,
    );
    expect(sameDigest(digest, digest.slice(1))).toBe(false);
    expect(sameDigest(digest, digest.toUpperCase())).toBe(digest === digest.toUpperCase());
    expect(sameDigest('', '')).toBe(true);
  });
});
