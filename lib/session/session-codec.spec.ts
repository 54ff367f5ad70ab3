import { decodeSession, encodeSession, OWNER_FIELD, sessionTtlMs } from './session-codec.js';
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
