import { signature, signedSessionId } from './session-cookie.js';

const SECRET = 'first-secret-0123456789abcdefghij';
const OLD = 'older-secret-0123456789abcdefghij';
const signed = (sid: string, secret = SECRET) =>
  encodeURIComponent(`s:${sid}.${signature(sid, secret)}`);

describe('signedSessionId', () => {
  it('reads the id from a cookie signed the way express-session signs it', () => {
    // A cookie value express-session 1.19 set for sid "abc" with SECRET (cookie-signature 1.0.7).
    const fromExpressSession = 's%3Aabc.zR1dXNNeMmT5%2ByjdPiVL16MzSLNwokWLX8jCzqsrEHg';
    expect(signature('abc', SECRET)).toBe(decodeURIComponent(fromExpressSession).slice(6));
    expect(signedSessionId(`sid=${fromExpressSession}`, 'sid', [SECRET])).toBe('abc');
  });

  it('verifies with any of the secrets (rotation)', () => {
    expect(signedSessionId(`sid=${signed('abc', OLD)}`, 'sid', [SECRET, OLD])).toBe('abc');
    expect(signedSessionId(`sid=${signed('abc', OLD)}`, 'sid', [SECRET])).toBeUndefined();
  });

  it('finds its cookie among others, the first of a name winning', () => {
    const header = `theme=dark; other=1;sid=${signed('one')}; sid=${signed('two')}`;
    expect(signedSessionId(header, 'sid', [SECRET])).toBe('one');
    expect(signedSessionId(`  sid = "${signed('q')}" `, 'sid', [SECRET])).toBe('q');
  });

  it.each([
    ['no header', undefined],
    ['no such cookie', 'other=1'],
    ['an unsigned value', 'sid=abc'],
    ['a forged signature', `sid=${signed('abc').slice(0, -3)}AAA`],
    ['a value signed for another id', `sid=s%3Aabd.${signed('abc').split('.')[1]}`],
    ['no signature at all', 'sid=s%3Aabc'],
    ['a malformed escape', 'sid=s%3Aabc.%E0%A4%A'],
  ])('is no session id for %s', (_, header) => {
    expect(signedSessionId(header, 'sid', [SECRET])).toBeUndefined();
  });
});
