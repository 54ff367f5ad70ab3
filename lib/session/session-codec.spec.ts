import type { Request } from 'express';
import { Cookie, MemoryStore, type CookieOptions } from 'express-session';
import fc from 'fast-check';
import { MAX_SESSION_AGE_MS } from '../options/session-age-limit.js';
import { decodeSession, encodeSession, sessionTtlMs } from './session-codec.js';
import { OWNER_FIELD } from './stored-session.js';
import { sessionFields } from './session-state.js';

const owner = {
  userId: 'alice',
  via: 'login' as const,
  createdAt: 1,
  indexedUntil: 2,
  ip: '::1',
  userAgent: 'ua',
  seal: 'sealed',
};

describe('session codec', () => {
  it('round-trips data and owner, keeping the owner out of the data', () => {
    const raw = encodeSession({ cookie: { path: '/' }, user: 'alice' }, owner);
    expect(JSON.parse(raw)[OWNER_FIELD]).toEqual(owner);
    expect(decodeSession(raw)).toEqual({ data: { cookie: { path: '/' }, user: 'alice' }, owner });
  });

  it('writes anonymous sessions exactly as connect-redis would', () => {
    const data = { cookie: { originalMaxAge: 1000, path: '/' }, visits: 2 };
    expect(encodeSession(data, undefined)).toBe(JSON.stringify(data));
    expect(decodeSession(JSON.stringify(data))).toEqual({ data });
  });

  it.each([
    ['with fields and an owner', { cookie: { path: '/' }, user: 'alice', count: 2 }, owner],
    ['with fields, anonymous', { cookie: { path: '/' }, visits: 1, nested: { a: [1] } }, undefined],
    ['with no field but the cookie', { cookie: { path: '/' } }, undefined],
  ])('encodes from the session fields already serialized the same data (%s)', (_, data, sealed) => {
    const raw = encodeSession(data, sealed, sessionFields(data));
    expect(JSON.parse(raw)).toEqual(JSON.parse(encodeSession(data, sealed)));
    expect(decodeSession(raw)).toEqual(decodeSession(encodeSession(data, sealed)));
  });

  it('drops an _owner field the application put in its session data, fields given or not', () => {
    const forged = { cookie: {}, user: 'x', [OWNER_FIELD]: { ...owner, userId: 'admin' } };
    expect(JSON.parse(encodeSession(forged, undefined, sessionFields(forged)))).toEqual({
      cookie: {},
      user: 'x',
    });
  });

  it('drops an _owner field the application put in its session data', () => {
    const forged = { cookie: {}, user: 'x', [OWNER_FIELD]: { ...owner, userId: 'admin' } };
    expect(JSON.parse(encodeSession(forged, undefined))).toEqual({ cookie: {}, user: 'x' });
    expect(JSON.parse(encodeSession(forged, owner))[OWNER_FIELD]).toEqual(owner);
  });

  it.each(['{"cookie":{},"_owner":{}}', '{"cookie":{},"_owner":{"userId":"admin"}}'])(
    'flags an owner that is not a sealed record: %s',
    (raw) => {
      expect(decodeSession(raw)).toEqual({ data: { cookie: {} }, unsealed: true });
    },
  );

  it.each(['', '{', 'null', '[]', '"s"', '{"user":"x"}', '{"cookie":null}'])(
    'reports %j as corrupt',
    (raw) => {
      expect(decodeSession(raw)).toBeUndefined();
    },
  );

  it('uses the cookie max-age as TTL, else the default', () => {
    expect(sessionTtlMs({ cookie: { originalMaxAge: 5000 } }, 1000)).toBe(5000);
    expect(sessionTtlMs({ cookie: { originalMaxAge: null } }, 1000)).toBe(1000);
    expect(sessionTtlMs({}, 1000)).toBe(1000);
  });

  it('uses the time left until an expiry date when a cookie has no max-age', () => {
    const inAMinute = new Date(Date.now() + 60_000);
    const ttl = sessionTtlMs({ cookie: { originalMaxAge: null, expires: inAMinute } }, 1000);
    expect(ttl).toBeGreaterThan(59_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    const stored = { cookie: { originalMaxAge: null, expires: inAMinute.toISOString() } };
    expect(sessionTtlMs(stored, 1000)).toBeGreaterThan(59_000);
    const past = { cookie: { originalMaxAge: null, expires: new Date(Date.now() - 1000) } };
    expect(sessionTtlMs(past, 1000)).toBeLessThanOrEqual(-1000);
    expect(sessionTtlMs({ cookie: { originalMaxAge: null, expires: null } }, 1000)).toBe(1000);
    expect(
      sessionTtlMs({ cookie: { originalMaxAge: 5000, expires: past.cookie.expires } }, 1),
    ).toBe(5000);
  });
});

/**
 * What the response's commit does with a stored session: express-session rebuilds its Cookie
 * (Store.createSession), touches it, and serializes it into the Set-Cookie.
 */
function commitStored(raw: string): string {
  const req = {} as Request;
  const session = new MemoryStore().createSession(req, JSON.parse(raw) as never);
  session.touch();
  return (session.cookie as unknown as { serialize(n: string, v: string): string }).serialize(
    'sid',
    'value',
  );
}

/** The JSON express-session stores for a session whose cookie has these options. */
const storedBy = (options: CookieOptions) =>
  JSON.stringify({ cookie: new (Cookie as unknown as new (o: CookieOptions) => Cookie)(options) });

const stored = (cookie: object) => JSON.stringify({ cookie, user: 'alice' });

describe('session codec: a stored cookie is one express-session can serialize, or corrupt', () => {
  it.each<[string, CookieOptions]>([
    ['defaults', {}],
    ['a max-age', { maxAge: 3_600_000 }],
    ['the longest max-age', { maxAge: MAX_SESSION_AGE_MS }],
    [
      'every attribute',
      {
        maxAge: 60_000,
        path: '/app',
        domain: '.acme.example.com',
        secure: true,
        httpOnly: false,
        sameSite: 'strict',
        priority: 'high',
        partitioned: true,
      },
    ],
    ['sameSite true', { sameSite: true }],
    ['sameSite false', { sameSite: false }],
    ['sameSite none', { sameSite: 'none', secure: true }],
    ['an expiry date', { expires: new Date(Date.now() + 60_000) }],
  ])('accepts what express-session stores: %s', (_, options) => {
    const raw = storedBy(options);
    expect(decodeSession(raw)).toBeDefined();
    expect(() => commitStored(raw)).not.toThrow();
  });

  it('accepts every cookie express-session makes from valid options (property)', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            maxAge: fc.integer({ min: -MAX_SESSION_AGE_MS + 60_000, max: MAX_SESSION_AGE_MS }),
            path: fc
              .string({
                unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
              })
              .filter((p) => !/[;<]/.test(p)),
            domain: fc.domain(),
            sameSite: fc.constantFrom(true, false, 'lax', 'strict', 'none', 'Lax', 'NONE'),
            secure: fc.boolean(),
            httpOnly: fc.boolean(),
            partitioned: fc.boolean(),
            priority: fc.constantFrom('low', 'medium', 'high', 'LOW', 'Medium'),
          },
          { requiredKeys: [] },
        ),
        (options) => {
          const raw = storedBy(options as CookieOptions);
          expect(decodeSession(raw)).toBeDefined();
          expect(() => commitStored(raw)).not.toThrow();
        },
      ),
    );
  });

  it.each([
    ['originalMaxAge 9e15 (no Date that far)', { originalMaxAge: 9e15 }],
    ['originalMaxAge 1e308', { originalMaxAge: 1e308 }],
    ['originalMaxAge past the limit', { originalMaxAge: MAX_SESSION_AGE_MS + 1 }],
    ['originalMaxAge -9e15', { originalMaxAge: -9e15 }],
    ['originalMaxAge "x" and expires "garbage"', { originalMaxAge: 'x', expires: 'garbage' }],
    ['originalMaxAge as text', { originalMaxAge: '60000' }],
    ['originalMaxAge not whole ms', { originalMaxAge: 1.5 }],
    ['expires "garbage"', { originalMaxAge: null, expires: 'garbage' }],
    ['expires a number', { expires: 1_700_000_000_000 }],
    ['expires past a Date', { expires: '+275760-09-13T00:00:00.001Z' }],
    ['expires far past the limit', { expires: '9999-01-01T00:00:00.000Z' }],
    ['a path with a control character', { path: '/\u0001' }],
    ['a path with ;', { path: '/a;b' }],
    ['a path with a character past ASCII', { path: '/é' }],
    ['a path that is a number', { path: 7 }],
    ['domain "a b"', { domain: 'a b' }],
    ['a domain with a trailing dot', { domain: 'x.com.' }],
    ['a domain that is an object', { domain: {} }],
    ['sameSite "bogus"', { sameSite: 'bogus' }],
    ['sameSite "auto" (an option, never stored)', { sameSite: 'auto' }],
    ['sameSite 1', { sameSite: 1 }],
    ['secure "auto" (an option, never stored)', { secure: 'auto' }],
    ['httpOnly "true"', { httpOnly: 'true' }],
    ['partitioned 1', { partitioned: 1 }],
    ['priority "urgent"', { priority: 'urgent' }],
    ['a maxAge field (a setter that throws on text)', { maxAge: 'x' }],
    ['a serialize field (the method the commit calls)', { serialize: 1 }],
    ['a toJSON field', { toJSON: null }],
    ['a field Cookie does not have', { colour: 'blue' }],
  ])('reports a cookie with %s as corrupt', (_, cookie) => {
    expect(decodeSession(stored(cookie))).toBeUndefined();
  });

  it('reports a __proto__ field of the cookie as corrupt (JSON.parse makes it a field)', () => {
    expect(decodeSession('{"cookie":{"__proto__":{"serialize":1}}}')).toBeUndefined();
  });

  it('accepts null fields as express-session leaves them out, and keeps the fields valid before', () => {
    expect(
      decodeSession(
        stored({
          originalMaxAge: null,
          expires: null,
          path: null,
          domain: null,
          sameSite: null,
          priority: null,
          secure: null,
        }),
      ),
    ).toBeDefined();
    expect(decodeSession(stored({ path: '/' }))).toBeDefined();
    expect(decodeSession(stored({ path: '/\u0001' }))).toBeUndefined();
    expect(decodeSession(stored({ domain: 'acme.test' }))).toBeDefined();
    expect(decodeSession(stored({ domain: 'a b' }))).toBeUndefined();
    expect(decodeSession(stored({ domain: 'acme.test' }))).toBeDefined();
  });

  it('never accepts a cookie express-session cannot rebuild and serialize (property)', () => {
    const anyField = fc.oneof(
      fc.jsonValue({ maxDepth: 1 }),
      fc.constantFrom(
        9e15,
        1e308,
        -1,
        0,
        1.5,
        'lax',
        'Strict',
        'none',
        'low',
        'HIGH',
        '/',
        '/a',
        'a.b',
        'a b',
        '2030-01-01',
        'garbage',
        true,
        false,
        null,
      ),
    );
    const cookieField = fc.constantFrom(
      'originalMaxAge',
      'expires',
      'path',
      'domain',
      'sameSite',
      'secure',
      'httpOnly',
      'partitioned',
      'priority',
      'maxAge',
      'serialize',
      'data',
      '_expires',
    );
    fc.assert(
      fc.property(fc.dictionary(cookieField, anyField), (cookie) => {
        const raw = stored(cookie);
        if (decodeSession(raw) !== undefined) expect(() => commitStored(raw)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
  });

  it('reports JSON nested more than 1000 deep as corrupt (it could not be written back)', () => {
    const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
    const withData = (data: string) => `{"cookie":{},"data":${data}}`;
    expect(decodeSession(withData(nested(999)))).toBeDefined();
    expect(decodeSession(withData(nested(1000)))).toBeUndefined();
    expect(decodeSession(withData(nested(100_000)))).toBeUndefined();
    // Brackets in strings and many siblings are no depth.
    expect(decodeSession(withData(JSON.stringify('['.repeat(5000))))).toBeDefined();
    expect(
      decodeSession(withData(JSON.stringify(Array.from({ length: 3000 }, () => [{}])))),
    ).toBeDefined();
    expect(decodeSession(withData(`"\\"${'['.repeat(2000)}"`))).toBeDefined();
  });
});
