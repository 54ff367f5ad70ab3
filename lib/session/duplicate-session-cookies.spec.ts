import { ConsoleLogger, Logger } from '@nestjs/common';
import fc from 'fast-check';
import { OperationBudget } from '../store/operation-budget.js';
import {
  dropDuplicateSessionCookies,
  pickSessionCookie,
  sessionIdFromCookies,
  type SessionCookieJar,
} from './duplicate-session-cookies.js';
import { cookieValue, signature, unsignedSessionId } from './session-cookie.js';

describe('pickSessionCookie', () => {
  it('picks the only cookie that verifies, wherever it is, without asking the store', () => {
    expect(pickSessionCookie([undefined, 'victim'])).toBe(1);
    expect(pickSessionCookie(['victim', undefined])).toBe(0);
  });

  it('picks a cookie whose session exists over one whose session is gone', () => {
    expect(pickSessionCookie(['gone', 'victim'], new Set(['victim']))).toBe(1);
    expect(pickSessionCookie(['victim', 'gone'], new Set(['victim']))).toBe(0);
    expect(pickSessionCookie([undefined, 'gone', 'victim'], new Set(['victim']))).toBe(2);
  });

  it('picks the first that verifies when no session exists', () => {
    expect(pickSessionCookie([undefined, 'one', 'two'], new Set())).toBe(1);
  });

  it('picks none of two existing sessions: nothing tells the visitor’s own from a tossed one', () => {
    expect(pickSessionCookie(['tossed', 'victim'], new Set(['tossed', 'victim']))).toBeUndefined();
  });

  it('treats the same id twice as one cookie', () => {
    expect(pickSessionCookie(['victim', 'victim'])).toBe(0);
  });

  it('picks none when nothing verifies', () => {
    expect(pickSessionCookie([undefined, undefined])).toBeUndefined();
  });
});

describe('a socket handshake and an HTTP request with the same Cookie header', () => {
  const SECRET = 'first-secret-0123456789abcdefghij';
  const ALIVE = new Set(['alice', 'bob']);
  /** The tenant's cookie rules, over a store in which only ALIVE's sessions exist. */
  const jar: SessionCookieJar = {
    cookieName: 'sid',
    verifiedSessionId: (value: string) => unsignedSessionId(value, [SECRET]),
    existing: async (sids: string[]) => new Set(sids.filter((sid) => ALIVE.has(sid))),
  };
  const budget = new OperationBudget(1000);
  const warnings: string[] = [];
  beforeAll(() => {
    Logger.overrideLogger({ log() {}, error() {}, warn: (message) => warnings.push(message) });
  });
  afterAll(() => Logger.overrideLogger(new ConsoleLogger()));

  /** The id the session middleware runs with once the duplicates are dropped. */
  async function httpSessionId(header: string): Promise<string | undefined> {
    const req = { headers: { cookie: header } };
    await dropDuplicateSessionCookies(req, jar, budget);
    const raw = cookieValue(req.headers.cookie!, 'sid');
    return raw === undefined ? undefined : unsignedSessionId(raw, [SECRET]);
  }

  const signed = (sid: string) => `s%3A${sid}.${encodeURIComponent(signature(sid, SECRET))}`;
  const pair = fc.oneof(
    fc.constantFrom('alice', 'bob', 'gone').map((sid) => `sid=${signed(sid)}`),
    fc.constantFrom('sid=garbage', 'sid=s%3Aalice.AAAA', 'sid=', 'sid', 'xsid=1', 'theme=dark'),
    fc.constantFrom('alice', 'gone').map((sid) => ` sid = "${signed(sid)}" `),
  );

  it('run with the same session id, whatever cookies of the name it carries', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(pair, { minLength: 1, maxLength: 5 }), async (pairs) => {
        const header = pairs.join(';');
        expect(await sessionIdFromCookies(header, jar, budget)).toBe(await httpSessionId(header));
      }),
    );
  });

  it.each([
    ['garbage, then a live session', `sid=garbage; sid=${signed('alice')}`, 'alice'],
    ['a gone session, then a live one', `sid=${signed('gone')}; sid=${signed('alice')}`, 'alice'],
    ['two live sessions', `sid=${signed('bob')}; sid=${signed('alice')}`, undefined],
  ])('with %s, the socket gets what HTTP gets', async (_, header, expected) => {
    expect(await sessionIdFromCookies(header, jar, budget)).toBe(expected);
    expect(await httpSessionId(header)).toBe(expected);
  });

  it('says so in the log when two live sessions leave the handshake without one', async () => {
    warnings.length = 0;
    await sessionIdFromCookies(`sid=${signed('bob')}; sid=${signed('alice')}`, jar, budget);
    expect(warnings).toEqual([expect.stringContaining('cookies of several existing sessions')]);
  });
});
