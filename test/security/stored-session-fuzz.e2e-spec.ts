import fc from 'fast-check';
import { Redis } from 'ioredis';
import request from 'supertest';
import { MAX_SESSION_AGE_MS } from '../../lib/options/session-age-limit.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

/**
 * Whatever a session key holds, the app answers: fuzzed values are written straight to Redis
 * under the key of a session the test logged in through the app (so its cookie is signed and
 * its owner sealed), then that browser reads and writes. Every value is either a session
 * (logged in, when its owner is the one sealed at login) or corrupt (no session: 401 on a
 * guarded route, a new anonymous session on an open one). Nothing crashes the app, no request
 * waits past a bound, and nothing answers 500 (issue 18, item 8).
 */

const APP = 'fuzzstored';
/** Every request must be answered within this, or it hung. */
const ANSWER_LIMIT_MS = 3000;
const NUM_RUNS = 150;

/** What a generated value must make GET /me answer: logged in, no session, or either. */
type Expected = 200 | 401 | 'either';

/** A stored value, built around the owner record sealed at login (`_owner` as stored). */
interface Case {
  describe: string;
  build(owner: unknown): string;
  expected: Expected;
  /** How the value is written: keeping the key's TTL, or with one of its own (ms). */
  ttl: 'KEEPTTL' | number;
}

/** A case fast-check prints by its description (a counterexample reads as the value). */
const printable = (c: Case): Case & fc.WithToStringMethod => ({
  ...c,
  [fc.toStringMethod]: () => `${c.describe} (${c.ttl === 'KEEPTTL' ? c.ttl : `PX ${c.ttl}`})`,
});

// The cookie fields express-session writes, each as the `cookie` package accepts it.
const validField = {
  originalMaxAge: fc.oneof(fc.constant(null), fc.integer({ min: 60_000, max: MAX_SESSION_AGE_MS })),
  expires: fc
    .integer({ min: 60_000, max: 100 * 365 * 24 * 3600 * 1000 })
    .map((ms) => new Date(Date.now() + ms).toISOString()),
  path: fc.constantFrom('/', '/app', '/a b', '/~user/x', '', null),
  domain: fc.constantFrom('acme.test', '.example.com', 'EXAMPLE.com', 'a-b.c1.io', '', null),
  sameSite: fc.constantFrom('lax', 'strict', 'none', 'Lax', 'STRICT', true, false, null),
  secure: fc.constantFrom(true, false, null),
  httpOnly: fc.constantFrom(true, false, null),
  partitioned: fc.constantFrom(true, false, null),
  priority: fc.constantFrom('low', 'medium', 'high', 'High', null),
};
const validCookie = fc.record(validField, { requiredKeys: [] });

// Each field as express-session's Cookie or the `cookie` package would throw on it, or not
// one of Cookie's fields at all (Cookie copies every field onto itself, setters included).
const corruptField = fc.oneof(
  fc.tuple(
    fc.constant('originalMaxAge'),
    fc.constantFrom(9e15, 1e308, -9e15, MAX_SESSION_AGE_MS + 1, 1.5, 'x', '60000', true, {}, []),
  ),
  fc.tuple(
    fc.constant('expires'),
    fc.constantFrom('garbage', '', 1_700_000_000_000, true, {}, '+275760-09-13T00:00:00.001Z'),
  ),
  fc.tuple(
    fc.constant('path'),
    fc.constantFrom('/\u0001', '/a;b', '/<x>', '/\u007f', '/é', '/\n', 123, {}, true),
  ),
  fc.tuple(
    fc.constant('domain'),
    fc.constantFrom('a b', '-x.com', 'a..b', 'x.', 'é.com', 'a_b.com', 5, {}, true),
  ),
  fc.tuple(fc.constant('sameSite'), fc.constantFrom('bogus', 'auto', '', 1, {}, [])),
  fc.tuple(fc.constant('secure'), fc.constantFrom('auto', 'yes', 1, 0, {})),
  fc.tuple(fc.constantFrom('httpOnly', 'partitioned'), fc.constantFrom('true', 1, 0, [])),
  fc.tuple(fc.constant('priority'), fc.constantFrom('urgent', '', 5, true)),
  fc.tuple(
    fc.constantFrom('maxAge', 'serialize', 'toJSON', 'data', '_expires', '__proto__', 'signed'),
    fc.constantFrom(null, 1000, 'x', {}, { serialize: 1 }),
  ),
  fc.tuple(
    fc.string({ minLength: 1, maxLength: 12 }).filter((key) => !(key in validField)),
    fc.jsonValue({ maxDepth: 2 }),
  ),
);

/** Fields beside the cookie that keep the session the one logged in (not `passport`). */
const extraFields = fc.dictionary(
  fc
    .string({ maxLength: 10 })
    .filter((key) => !['cookie', '_owner', 'user', 'passport'].includes(key)),
  fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER + 2),
  ),
  { maxKeys: 4 },
);

const liveTtl = fc.oneof(
  fc.constant<'KEEPTTL'>('KEEPTTL'),
  fc.integer({ min: 60_000, max: 86_400_000 }),
);
const anyTtl = fc.oneof(liveTtl, fc.integer({ min: 1, max: 2 ** 40 }));

/** Nested arrays `depth` deep. */
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
/** Stored JSON with `raw` spliced in as the value of a `deep` field. */
const withDeep = (json: string, raw: string) => `${json.slice(0, -1)},"deep":${raw}}`;

/** Whether text parses to what could still be a session (an object with an object cookie). */
const mayBeSession = (text: string) => {
  try {
    const parsed = JSON.parse(text) as { cookie?: unknown } | null;
    return (
      typeof parsed === 'object' &&
      parsed !== null &&
      !Array.isArray(parsed) &&
      typeof parsed.cookie === 'object' &&
      parsed.cookie !== null &&
      !Array.isArray(parsed.cookie)
    );
  } catch {
    return false;
  }
};

const cases: fc.Arbitrary<Case> = fc.oneof(
  // A session as express-session and this library write it: still logged in.
  fc
    .record({ cookie: validCookie, extra: extraFields, ttl: liveTtl })
    .map(({ cookie, extra, ttl }): Case =>
      printable({
        describe: `valid ${JSON.stringify({ cookie, extra })}`,
        build: (owner) => JSON.stringify({ cookie, ...extra, user: 'alice', _owner: owner }),
        expected: 200,
        ttl,
      }),
    ),
  // The same with one cookie field nothing can serialize: corrupt, however valid its owner.
  fc
    .record({ cookie: validCookie, bad: corruptField, ttl: anyTtl })
    .map(({ cookie, bad: [field, value], ttl }): Case =>
      printable({
        describe: `corrupt ${field}: ${JSON.stringify(value)}`,
        build: (owner) => {
          // fromEntries, so that a `__proto__` field is a field, as JSON.parse makes it.
          const corrupt = Object.fromEntries([
            ...Object.entries(cookie).filter(([key]) => key !== field),
            [field, value],
          ]);
          return JSON.stringify({ cookie: corrupt, user: 'alice', _owner: owner });
        },
        expected: 401,
        ttl,
      }),
    ),
  // A cookie that is not an object, or no cookie.
  fc
    .record({ cookie: fc.constantFrom('x', 5, [], null, true, undefined), ttl: anyTtl })
    .map(({ cookie, ttl }): Case =>
      printable({
        describe: `cookie ${JSON.stringify(cookie)}`,
        build: (owner) => JSON.stringify({ cookie, user: 'alice', _owner: owner }),
        expected: 401,
        ttl,
      }),
    ),
  // A valid cookie, an owner record nobody sealed or not shaped like one.
  fc
    .record({
      cookie: validCookie,
      owner: fc.oneof(
        fc.jsonValue({ maxDepth: 3 }),
        fc.record(
          {
            userId: fc.oneof(
              fc.constantFrom('alice', 'mallory', ''),
              fc.jsonValue({ maxDepth: 1 }),
            ),
            via: fc.constantFrom('login', 'identity', 'x', 1),
            createdAt: fc.oneof(fc.integer(), fc.constantFrom('1', null, 1e308)),
            indexedUntil: fc.oneof(fc.integer(), fc.constantFrom(-1, 9e15, 'x')),
            authenticatedAt: fc.oneof(fc.integer(), fc.constant('x')),
            seal: fc.oneof(fc.string(), fc.constant(5)),
          },
          { requiredKeys: [] },
        ),
      ),
      passport: fc.option(fc.jsonValue({ maxDepth: 2 })),
      ttl: anyTtl,
    })
    .map(({ cookie, owner, passport, ttl }): Case =>
      printable({
        describe: `owner ${JSON.stringify(owner)}, passport ${JSON.stringify(passport)}`,
        build: () => JSON.stringify({ cookie, user: 'alice', passport, _owner: owner }),
        expected: 'either',
        ttl,
      }),
    ),
  // The real owner, changed in one field (its seal no longer matches).
  fc
    .record({
      cookie: validCookie,
      field: fc.constantFrom('userId', 'via', 'createdAt', 'indexedUntil', 'seal'),
      value: fc.jsonValue({ maxDepth: 1 }),
      ttl: anyTtl,
    })
    .map(({ cookie, field, value, ttl }): Case =>
      printable({
        describe: `owner's ${field} ${JSON.stringify(value)}`,
        build: (owner) =>
          JSON.stringify({
            cookie,
            user: 'alice',
            _owner: { ...(owner as object), [field]: value },
          }),
        expected: 'either',
        ttl,
      }),
    ),
  // Any JSON at all, and text that is not JSON.
  fc
    .record({
      text: fc.oneof(
        fc.json({ maxDepth: 4 }),
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.constantFrom('', '{', 'null', '[]', '"s"', '1e400', '{"cookie":{}', 'nul\u0000l'),
        fc.integer({ min: 1, max: 200_000 }).map((n) => 'x'.repeat(n)),
      ),
      ttl: anyTtl,
    })
    .map(({ text, ttl }): Case =>
      printable({
        describe: `text ${JSON.stringify(text.slice(0, 80))}`,
        build: () => text,
        expected: mayBeSession(text) ? 'either' : 401,
        ttl,
      }),
    ),
  // Nesting JSON.stringify can write back (a session), and nesting it cannot (corrupt).
  fc
    .record({
      depth: fc.oneof(fc.integer({ min: 1, max: 900 }), fc.integer({ min: 1001, max: 50_000 })),
      ttl: liveTtl,
    })
    .map(({ depth, ttl }): Case =>
      printable({
        describe: `data nested ${depth} deep`,
        build: (owner) =>
          withDeep(
            JSON.stringify({ cookie: { originalMaxAge: 3_600_000 }, user: 'alice', _owner: owner }),
            nested(depth),
          ),
        expected: depth <= 900 ? 200 : 401,
        ttl,
      }),
    ),
);

describe('any value stored under a session key: a session or none, never a crash, a hang or a 500', () => {
  let t: TestApp;
  let redis: Redis;
  /** Every status answered in this file, with what was sent. */
  const answered: Array<{ status: number; what: string }> = [];

  beforeAll(async () => {
    // No cap: each run logs alice in once more.
    t = await createTestApp({ appName: APP, maxSessionsPerUser: false });
    redis = new Redis(process.env.TEST_REDIS_URL!);
  });
  afterAll(async () => {
    redis?.disconnect();
    await t?.close();
  });

  const send = async (method: 'get' | 'post', path: string, cookie: string, what: string) => {
    const req = request(t.http)[method](path).set('Host', 'acme.test').set('Cookie', cookie);
    const res = await req.timeout({ deadline: ANSWER_LIMIT_MS });
    answered.push({ status: res.status, what: `${method.toUpperCase()} ${path} after ${what}` });
    return res;
  };

  /** A browser logged in as alice: its cookie, and where and what its session is stored. */
  const loggedIn = async () => {
    const res = await request(t.http)
      .post('/login')
      .set('Host', 'acme.test')
      .send({ user: 'alice' })
      .timeout({ deadline: ANSWER_LIMIT_MS });
    expect(res.status).toBe(201);
    const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? [])[0].split(';')[0];
    const signed = decodeURIComponent(cookie.slice('sid='.length)).slice(2);
    const key = `sessions:acme:${APP}:${signed.slice(0, signed.lastIndexOf('.'))}`;
    const stored = JSON.parse((await redis.get(key))!) as { _owner: unknown };
    return { cookie, key, owner: stored._owner };
  };

  it('reads and writes of the fuzzed value answer 200/201 for a session, 401 for none', async () => {
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const { cookie, key, owner } = await loggedIn();
        const value = c.build(owner);
        if (c.ttl === 'KEEPTTL') await redis.set(key, value, 'KEEPTTL');
        else await redis.set(key, value, 'PX', c.ttl);

        const me = await send('get', '/me', cookie, c.describe);
        const increment = await send('post', '/increment', cookie, c.describe);
        const visit = await send('post', '/visit', cookie, c.describe);

        const allowed = c.expected === 'either' ? [200, 401] : [c.expected];
        expect(allowed).toContain(me.status);
        if (me.status === 200) expect(me.body).toMatchObject({ user: 'alice', tenant: 'acme' });
        if (c.expected === 200) expect(increment.status).toBe(201);
        else expect(me.status === 200 ? [201, 401] : [401]).toContain(increment.status);
        expect(visit.status).toBe(201);
        // Logged in, it goes on as that session; corrupt, the browser got a new one.
        if (c.expected === 401) expect(visit.body).toEqual({ tenant: 'acme', visits: 1 });
      }),
      { numRuns: NUM_RUNS },
    );

    expect(answered.filter(({ status }) => status >= 500)).toEqual([]);
    // The app still serves a new visitor.
    const fresh = await loggedIn();
    expect((await send('get', '/me', fresh.cookie, 'the run')).body).toMatchObject({
      user: 'alice',
    });
  }, 60_000);
});
