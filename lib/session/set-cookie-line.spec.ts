import { Cookie, type CookieOptions } from 'express-session';
import fc from 'fast-check';
import { SetCookieLines, type SerializableCookie } from './set-cookie-line.js';

const cookieOf = (options: object): SerializableCookie =>
  new (Cookie as unknown as new (options: object) => SerializableCookie)(options);

/** What express-session itself writes for this cookie: the line or the error it throws. */
function expressSessionLine(name: string, value: string, cookie: SerializableCookie): string {
  try {
    return cookie.serialize(name, value);
  } catch (error) {
    return `throws ${String(error)}`;
  }
}

function lineOf(lines: SetCookieLines, value: string, cookie: SerializableCookie): string {
  try {
    return lines.line(value, cookie);
  } catch (error) {
    return `throws ${String(error)}`;
  }
}

/** Attributes as a tenant configures them, or as an app sets them on one session's cookie. */
const attributes = fc.record(
  {
    domain: fc.constantFrom(undefined, 'example.com', '.acme.example', 'bad domain'),
    path: fc.constantFrom(undefined, '/', '/app', 'bad;path'),
    httpOnly: fc.constantFrom(undefined, true, false),
    secure: fc.constantFrom(undefined, true, false, 'auto'),
    partitioned: fc.constantFrom(undefined, true, false),
    priority: fc.constantFrom(undefined, 'low', 'High', 'urgent'),
    sameSite: fc.constantFrom(undefined, true, false, 'lax', 'Strict', 'none', 'sideways'),
  },
  { requiredKeys: [] },
);

/** An expiry as a session cookie can hold one: a Date (valid or not), none, or something else. */
const expiries = fc.oneof(
  fc.integer({ min: -8.64e15, max: 8.64e15 }).map((ms) => new Date(ms)),
  fc.integer({ min: 1_700_000_000_000, max: 1_700_000_003_000 }).map((ms) => new Date(ms)),
  fc.constantFrom(null, new Date(NaN), 'Tue, 01 Dec 2026 00:00:00 GMT', 0),
);

const values = fc.oneof(
  fc.constant('s:abc.zR1dXNNeMmT5+yjdPiVL16MzSLNwokWLX8jCzqsrEHg'),
  fc.string({ unit: 'grapheme-ascii' }),
);

describe('SetCookieLines', () => {
  it("writes express-session's Set-Cookie line for every cookie, and throws where it throws", () => {
    fc.assert(
      fc.property(
        fc.constantFrom('sid', 'connect.sid', '__Host-session'),
        fc.array(fc.tuple(attributes, expiries, values), { minLength: 1, maxLength: 12 }),
        (name, responses) => {
          // One tenant's lines across responses: whatever the last one kept, each is exact.
          const lines = new SetCookieLines(name);
          for (const [options, expires, value] of responses) {
            const cookie = cookieOf(options);
            (cookie as { expires: unknown }).expires = expires;
            expect(lineOf(lines, value, cookie)).toBe(expressSessionLine(name, value, cookie));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('gives a cookie the app changed its own attributes, then the tenant its own again', () => {
    const tenant: CookieOptions = { path: '/', httpOnly: true, sameSite: 'lax', maxAge: 60_000 };
    const lines = new SetCookieLines('sid');
    const plain = cookieOf(tenant);
    const remembered = cookieOf({ ...tenant, domain: 'acme.example', secure: true });
    const first = lines.line('s:a.b', plain);
    expect(lines.line('s:a.b', remembered)).toContain('; Domain=acme.example; Path=/; Expires=');
    expect(lines.line('s:a.b', remembered)).toMatch(/; HttpOnly; Secure; SameSite=Lax$/);
    expect(lines.line('s:a.b', plain)).toBe(first);
    expect(first).toMatch(/^sid=s%3Aa\.b; Path=\/; Expires=.+ GMT; HttpOnly; SameSite=Lax$/);
  });

  it('writes the Expires of the second the cookie ends in, not of an earlier one', () => {
    const lines = new SetCookieLines('sid');
    const cookie = cookieOf({ path: '/' });
    for (const ms of [1_700_000_000_999, 1_700_000_001_000, 1_700_000_001_500, 1_699_999_999_999]) {
      cookie.expires = new Date(ms);
      expect(lines.line('v', cookie)).toBe(
        `sid=v; Path=/; Expires=${new Date(ms).toUTCString()}; HttpOnly`,
      );
    }
  });
});
