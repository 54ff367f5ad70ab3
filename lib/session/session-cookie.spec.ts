import {
  cookieValue,
  signature,
  signedCookieValue,
  unsignedSessionId,
  verifySessionCookie,
} from './session-cookie.js';

const SECRET = 'first-secret-0123456789abcdefghij';
const OLD = 'older-secret-0123456789abcdefghij';
const signed = (sid: string, secret = SECRET) =>
  encodeURIComponent(`s:${sid}.${signature(sid, secret)}`);

/** The id the session middleware reads from a header with one session cookie. */
const idIn = (header: string, secrets = [SECRET]) => {
  const raw = cookieValue(header, 'sid');
  return raw === undefined ? undefined : unsignedSessionId(raw, secrets);
};

describe('cookieValue and unsignedSessionId', () => {
  it('read the id from a cookie signed the way express-session signs it', () => {
    // A cookie value express-session 1.19 set for sid "abc" with SECRET (cookie-signature 1.0.7).
    const fromExpressSession = 's%3Aabc.zR1dXNNeMmT5%2ByjdPiVL16MzSLNwokWLX8jCzqsrEHg';
    expect(signature('abc', SECRET)).toBe(decodeURIComponent(fromExpressSession).slice(6));
    expect(idIn(`sid=${fromExpressSession}`)).toBe('abc');
  });

  it('verify with any of the secrets (rotation)', () => {
    expect(idIn(`sid=${signed('abc', OLD)}`, [SECRET, OLD])).toBe('abc');
    expect(idIn(`sid=${signed('abc', OLD)}`)).toBeUndefined();
  });

  it('find the cookie among others, the first of a name as the cookie package does', () => {
    const header = `theme=dark; other=1;sid=${signed('one')}; sid=${signed('two')}`;
    expect(idIn(header)).toBe('one');
    expect(idIn(`  sid = "${signed('q')}" `)).toBe('q');
  });

  it.each([
    ['no such cookie', 'other=1'],
    ['an unsigned value', 'sid=abc'],
    ['a forged signature', `sid=${signed('abc').slice(0, -3)}AAA`],
    ['a value signed for another id', `sid=s%3Aabd.${signed('abc').split('.')[1]}`],
    ['no signature at all', 'sid=s%3Aabc'],
    ['a malformed escape', 'sid=s%3Aabc.%E0%A4%A'],
  ])('find no session id for %s', (_, header) => {
    expect(idIn(header)).toBeUndefined();
  });

  it('remember a verified value only for the secrets that verified it', () => {
    const raw = signedCookieValue('abc', OLD);
    const rotated = [SECRET, OLD];
    expect(verifySessionCookie(raw, [OLD])).toEqual({ sid: 'abc', signedByCurrentSecret: true });
    // The same value again, under other secrets: checked again, not taken from memory.
    expect(verifySessionCookie(raw, [SECRET])).toBeUndefined();
    expect(verifySessionCookie(raw, rotated)).toEqual({ sid: 'abc', signedByCurrentSecret: false });
    expect(verifySessionCookie(raw, rotated)).toEqual({ sid: 'abc', signedByCurrentSecret: false });
    expect(verifySessionCookie(raw, [OLD])).toEqual({ sid: 'abc', signedByCurrentSecret: true });
    expect(verifySessionCookie(`${raw.slice(0, -1)}A`, rotated)).toBeUndefined();
  });
});
