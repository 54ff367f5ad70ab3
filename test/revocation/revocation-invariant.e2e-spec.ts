// The revocation invariant end to end (README "Guarantees"): a session serves only while its
// user's index holds its entry with a live lease. Only a login adds an entry; only a revocation,
// a logout or the lease's end removes one; nothing else (a listing, a lease renewal, another
// service writing the session back, an instance with fewer secrets) may add or remove one, and
// a session whose owner does not verify never serves. Each test replays a finding of the
// security review (issue 18) over HTTP against a real redis-server.
import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import { Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import type request from 'supertest';
import { sessionHandle } from '../../lib/session/session-handle.js';
import { NOT_BEFORE_MEMBER } from '../../lib/store/scripts.js';
import { startSample, type RunningSample } from '../support/sample.js';
import { createTestApp, TEST_SECRET, type TestApp } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';

const SAMPLE_HOST = 'acme.localhost';
const TEST_HOST = 'acme.test';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A promise the test settles by hand: `fire()` resolves `fired`. */
function signal(): { fire: () => void; fired: Promise<void> } {
  let fire!: () => void;
  const fired = new Promise<void>((resolve) => (fire = resolve));
  return { fire, fired };
}

/**
 * The answer to `send`, sent again while it is 503 (a busy machine past the store's deadline),
 * for at most 10 s: a session is only judged by a real answer.
 */
async function settled(send: () => Promise<request.Response>): Promise<request.Response> {
  const deadline = performance.now() + 10_000;
  for (;;) {
    const res = await send();
    if (res.status !== 503 || performance.now() > deadline) return res;
    await sleep(100);
  }
}

/** `"<status> <code>"` of an answer, for failure messages that say what came back. */
const answer = (res: request.Response) =>
  `${res.status}${res.body?.code ? ` ${res.body.code}` : ''}`;

describe('the revocation invariant: a session serves only while its index entry lives', () => {
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(process.env.TEST_REDIS_URL!);
  });
  afterAll(() => redis.quit());

  describe('on the sample app (passport logins, a password change, an admin)', () => {
    const ROUNDS = 3;
    const LISTERS = 4;
    const LOGIN_LOOPS = 3;
    const LOGINS_PER_LOOP = 12;
    let sample: RunningSample;

    // The loops log alice in far more often than the sample's password attempt limit allows
    // (sample-hardening.e2e-spec.ts tests the limit).
    beforeAll(async () => {
      sample = await startSample({ LOGIN_ATTEMPTS_PER_MINUTE: '10000' });
    });
    afterAll(() => sample?.close());

    const indexKey = (user: string) => `sessions-index:acme:${sample.appName}:${user}`;
    const logIn = async (username: string, password: string, agent = 'jest-visitor') => {
      const visitor = new Visitor(sample.http, SAMPLE_HOST, agent);
      const res = await visitor.post('/auth/login', { username, password });
      expect(res.status).toBe(200);
      return visitor;
    };

    it('a listing never unindexes a login in flight: after a password change and an admin revocation no acknowledged login serves, and no login that began after the last revocation is refused', async () => {
      let password = 'alice-pass';
      for (let round = 1; round <= ROUNDS; round++) {
        const v = await logIn('alice', password, `alice-${round}-V`);
        const l = await logIn('alice', password, `alice-${round}-L`);
        const acknowledged: Visitor[] = [v, l];
        // Nothing revoked alice since the previous round ended: no login may be refused as
        // revoked. A busy machine may answer 503 (the store's deadline), never anything else.
        const refusedLogins: string[] = [];
        const unexpected: string[] = [];
        let racing = true;

        const lister = async () => {
          while (racing) {
            const res = await l.get('/sessions');
            if (res.status !== 200 && res.status !== 503) unexpected.push(`listing ${answer(res)}`);
          }
        };
        const loginLoop = async (loop: number) => {
          for (let i = 0; i < LOGINS_PER_LOOP; i++) {
            const visitor = new Visitor(sample.http, SAMPLE_HOST, `alice-${round}-${loop}-${i}`);
            const res = await visitor.post('/auth/login', { username: 'alice', password });
            if (res.status === 200) acknowledged.push(visitor);
            else if (res.body?.code === 'LOGIN_REVOKED') refusedLogins.push(answer(res));
            else if (res.status !== 503) unexpected.push(`login ${answer(res)}`);
          }
        };
        const listers = Array.from({ length: LISTERS }, lister);
        await Promise.all(Array.from({ length: LOGIN_LOOPS }, (_, loop) => loginLoop(loop)));
        racing = false;
        await Promise.all(listers);

        const newPassword = `alice-pass-${round}`;
        const changed = await v.post('/auth/password', { currentPassword: password, newPassword });
        password = newPassword;
        expect(changed.status).toBe(200);
        const admin = await logIn('admin', 'admin-pass', `admin-${round}`);
        const revoked = await admin.post('/admin/users/alice/revoke');
        expect(revoked.status).toBe(200);

        const survivors: string[] = [];
        for (const [i, visitor] of acknowledged.entries()) {
          const me = await settled(() => visitor.get('/me'));
          const increment = await settled(() => visitor.post('/increment'));
          if (me.status !== 401 || increment.status !== 401) {
            survivors.push(`login ${i}: GET /me ${me.status}, POST /increment ${increment.status}`);
          }
        }
        expect({ round, refusedLogins, unexpected, survivors }).toEqual({
          round,
          refusedLogins: [],
          unexpected: [],
          survivors: [],
        });
        // Every other login was stored and indexed, so the password change reached each one (and
        // any a 503 left stored without telling its client), and the admin's revocation the one
        // that changed it.
        expect(changed.body.revoked).toBeGreaterThanOrEqual(acknowledged.length - 1);
        expect(revoked.body).toEqual({ revoked: 1 });
        expect(await redis.zrange(indexKey('alice'), '0', '-1')).toEqual([NOT_BEFORE_MEMBER]);
      }
    }, 120_000);
  });

  describe('on a test app', () => {
    let t: TestApp | undefined;
    afterEach(async () => {
      await t?.close();
      t = undefined;
    });

    const logIn = async (app: TestApp, user: string, agent = 'jest-visitor') => {
      const visitor = new Visitor(app.http, TEST_HOST, agent);
      expect((await visitor.post('/login', { user })).status).toBe(201);
      return visitor;
    };

    it('at the cap, a burst of concurrent logins leaves at most the cap serving, and every serving session is indexed', async () => {
      const CAP = 20;
      const BURST = 15;
      const appName = 'invariant-cap';
      t = await createTestApp({ appName, maxSessionsPerUser: CAP });
      const app = t;
      const existing: Visitor[] = [];
      for (let i = 0; i < CAP; i++) existing.push(await logIn(app, 'alice', `existing-${i}`));

      const burst = Array.from(
        { length: BURST },
        (_, i) => new Visitor(app.http, TEST_HOST, `burst-${i}`),
      );
      const logins = await Promise.all(burst.map((v) => v.post('/login', { user: 'alice' })));

      const all = [...existing, ...burst];
      const serving: Visitor[] = [];
      for (const visitor of all) {
        if ((await settled(() => visitor.get('/me'))).status === 200) serving.push(visitor);
      }
      const index = `sessions-index:acme:${appName}:alice`;
      const unindexed: string[] = [];
      for (const visitor of serving) {
        if ((await redis.zscore(index, visitor.sessionId()!)) === null) {
          unindexed.push(`login ${all.indexOf(visitor)}`);
        }
      }
      // A cap revokes no user: no login may be refused as revoked. A busy machine may answer 503.
      const refused = logins.filter((res) => res.status !== 201 && res.status !== 503);
      const acknowledged = burst.filter((_, i) => logins[i].status === 201);
      expect({
        refusedLogins: refused.map(answer),
        servingPastTheCap: Math.max(0, serving.length - CAP),
        unindexed,
        // The cap ends the oldest logins first: none of the burst's, with older ones to end.
        burstEnded: acknowledged.filter((v) => !serving.includes(v)).map((v) => all.indexOf(v)),
      }).toEqual({ refusedLogins: [], servingPastTheCap: 0, unindexed: [], burstEnded: [] });
    }, 60_000);

    it('a lease renewal never re-admits a revoked session: one written back after the revocation and read past the renewal point never serves, is never listed, and its entry never returns', async () => {
      const IDLE_TTL_MS = 2000;
      const appName = 'invariant-renewal';
      t = await createTestApp({ appName, idleTtl: IDLE_TTL_MS / 1000 });
      const app = t;
      const loggedInAt = performance.now();
      const laptop = await logIn(app, 'alice', 'laptop');
      const sid = laptop.sessionId()!;
      const key = `sessions:acme:${appName}:${sid}`;
      const index = `sessions-index:acme:${appName}:alice`;
      const stored = (await redis.get(key))!;
      // One session revoked by its handle: no not-before is recorded, so only the renewal rule
      // stands between the written-back session and its entry.
      expect(await app.sessions.revoke('acme', 'alice', sessionHandle(sid))).toBe(1);
      expect(await redis.zscore(index, sid)).toBeNull();

      // A lease is 3 idle TTLs and is renewed once less than 2 are left: 1 TTL after the login.
      // Reads go on until well past that, each on the session written back as it was (what a
      // service that loaded it before the revocation does when it saves).
      const violations: string[] = [];
      let reads = 0;
      while (performance.now() - loggedInAt < 1.75 * IDLE_TTL_MS || reads < 8) {
        if (!(await redis.exists(key))) await redis.set(key, stored, 'PX', IDLE_TTL_MS);
        const at = `${Math.round(performance.now() - loggedInAt)} ms after the login`;
        const res = await settled(() =>
          reads % 2 === 0 ? laptop.get('/me') : laptop.post('/increment'),
        );
        reads++;
        if (res.status !== 401) violations.push(`served ${answer(res)} at ${at}`);
        if ((await redis.zscore(index, sid)) !== null) violations.push(`indexed at ${at}`);
        const listed = await app.sessions.list('acme', 'alice');
        if (listed.sessions.some((s) => s.id === sessionHandle(sid))) {
          violations.push(`listed at ${at}`);
        }
        await sleep(150);
      }

      expect(violations).toEqual([]);
      expect(await redis.zscore(index, sid)).toBeNull();
      expect((await app.sessions.list('acme', 'alice')).sessions).toEqual([]);
    }, 30_000);

    it('a session a plain express-session + connect-redis service writes back after revokeAll never serves again: the module answers 401, lists nothing and deletes the key', async () => {
      const appName = 'invariant-plain';
      t = await createTestApp({ appName });
      const app = t;
      const client = new Redis(process.env.TEST_REDIS_URL!);
      const loaded = signal();
      const release = signal();
      // Set up as README's "Sharing sessions with another service" shows.
      const plain = express();
      plain.use(
        session({
          store: new RedisStore({
            client,
            prefix: `sessions:acme:${appName}:`,
            disableTouch: true,
          }),
          secret: TEST_SECRET,
          name: 'sid',
          resave: false,
          saveUninitialized: false,
        }),
      );
      plain.post('/slow-increment', async (req, res) => {
        loaded.fire();
        await release.fired;
        req.session.count = (req.session.count ?? 0) + 1;
        res.json({ count: req.session.count });
      });
      try {
        const alice = await logIn(app, 'alice');
        const key = `sessions:acme:${appName}:${alice.sessionId()}`;

        const pending = alice.on(plain).post('/slow-increment');
        await loaded.fired;
        expect(await app.sessions.revokeAll('acme', 'alice')).toBe(1);
        expect(await redis.exists(key)).toBe(0);
        release.fire();
        const saved = await pending;
        // The plain service saved its copy (sealed owner included) with a plain SET ... EX.
        expect(saved.status).toBe(200);
        expect(saved.body).toEqual({ count: 1 });
        expect(await redis.exists(key)).toBe(1);

        expect((await app.sessions.list('acme', 'alice')).sessions).toEqual([]);
        expect((await alice.get('/me')).status).toBe(401);
        expect(await redis.exists(key)).toBe(0);
        expect((await alice.post('/increment')).status).toBe(401);
      } finally {
        release.fire();
        await client.quit();
      }
    });

    it('rolling secret rotation: a listing on an instance still on [old] keeps the entry of a session sealed with the new secret, so revokeAll still ends it', async () => {
      const OLD = 'rotation-old-secret-0123456789-abcdefghij';
      const NEW = 'rotation-new-secret-0123456789-klmnopqrst';
      const appName = 'invariant-rotation';
      t = await createTestApp({ appName, secret: [NEW, OLD] });
      const rotated = t;
      const stale = await createTestApp({ appName, secret: [OLD] });
      try {
        const alice = await logIn(rotated, 'alice');
        expect((await alice.post('/increment')).body).toEqual({ count: 1 });
        const sid = alice.sessionId()!;
        const index = `sessions-index:acme:${appName}:alice`;

        await stale.sessions.list('acme', 'alice');

        const indexed = (await redis.zscore(index, sid)) !== null;
        const listed = (await rotated.sessions.list('acme', 'alice')).sessions.map((s) => s.id);
        const revoked = await stale.sessions.revokeAll('acme', 'alice');
        const afterwards = [
          (await alice.get('/me')).status,
          (await alice.post('/increment')).status,
        ];
        expect({ indexed, listed, revoked, afterwards }).toEqual({
          indexed: true,
          listed: [sessionHandle(sid)],
          revoked: 1,
          afterwards: [401, 401],
        });
      } finally {
        await stale.close();
      }
    });
  });

  describe('a stored owner that does not verify, or an identity without one, is refused (sample, RECENT_LOGIN_MAX_AGE 1 s)', () => {
    let sample: RunningSample;
    let target: Visitor;
    let otherDevice: Visitor;
    let bob: Visitor;
    let targetStored: Record<string, unknown>;
    let bobStored: Record<string, unknown>;

    const key = (v: Visitor) => `sessions:acme:${sample.appName}:${v.sessionId()}`;
    const logIn = async (username: string) => {
      const visitor = new Visitor(sample.http, SAMPLE_HOST, `${username}-device`);
      const res = await visitor.post('/auth/login', { username, password: `${username}-pass` });
      expect(res.status).toBe(200);
      return visitor;
    };

    beforeAll(async () => {
      sample = await startSample({ RECENT_LOGIN_MAX_AGE: '1', LOGIN_ATTEMPTS_PER_MINUTE: '10000' });
      target = await logIn('alice');
      otherDevice = await logIn('alice');
      bob = await logIn('bob');
      // Until the target's login is no longer recent: a step-up route then asks for one (the
      // guard answers before the handler, which would say 404 for this handle).
      const deadline = performance.now() + 15_000;
      for (;;) {
        const res = await target.delete('/sessions/no-such-handle');
        if (res.body?.code === 'RECENT_LOGIN_REQUIRED') break;
        expect(res.status).toBe(404);
        if (performance.now() > deadline) throw new Error('the login stayed recent');
        await sleep(100);
      }
      targetStored = JSON.parse((await redis.get(key(target)))!);
      bobStored = JSON.parse((await redis.get(key(bob)))!);
      expect(targetStored).toMatchObject({
        passport: { user: 'alice' },
        _owner: { userId: 'alice' },
      });
    }, 30_000);
    afterAll(() => sample?.close());

    type Stored = Record<string, unknown> & {
      passport: { user: string };
      _owner?: Record<string, unknown>;
    };
    const tampers: [string, (stored: Stored) => void][] = [
      ['_owner.authenticatedAt set to now', (s) => void (s._owner!.authenticatedAt = Date.now())],
      ['_owner.createdAt set to now', (s) => void (s._owner!.createdAt = Date.now())],
      ['_owner.userId set to bob', (s) => void (s._owner!.userId = 'bob')],
      ['_owner deleted', (s) => void delete s._owner],
      ['passport.user set to admin, the owner kept', (s) => void (s.passport.user = 'admin')],
      [
        'passport.user set to admin, the owner deleted',
        (s) => {
          s.passport.user = 'admin';
          delete s._owner;
        },
      ],
      [
        'passport.user and _owner.userId set to admin',
        (s) => {
          s.passport.user = 'admin';
          s._owner!.userId = 'admin';
        },
      ],
      [
        "bob's owner copied in, passport.user set to bob",
        (s) => {
          s.passport.user = 'bob';
          s._owner = structuredClone(bobStored._owner) as Record<string, unknown>;
        },
      ],
    ];

    it.each(tampers)(
      '%s: every route answers 401 (403 at most for the admin one) and deletes the key, also after a write; no recent login, no step-up, no admin',
      async (_, tamper) => {
        const stored = structuredClone(targetStored) as Stored;
        tamper(stored);
        const tampered = JSON.stringify(stored);
        const otherHandle = sessionHandle(otherDevice.sessionId()!);
        type Route = [string, () => Promise<request.Response>, number[]];
        const me: Route = ['GET /me', () => target.get('/me'), [401]];
        const increment: Route = ['POST /increment', () => target.post('/increment'), [401]];
        const stepUps: Route[] = [
          ['POST /sessions/revoke-others', () => target.post('/sessions/revoke-others'), [401]],
          [
            "DELETE /sessions/<the other device's handle>",
            () => target.delete(`/sessions/${otherHandle}`),
            [401],
          ],
          [
            'POST /admin/users/bob/revoke',
            () => target.post('/admin/users/bob/revoke'),
            [401, 403],
          ],
        ];
        const password: Route = [
          'POST /auth/password',
          () =>
            target.post('/auth/password', {
              currentPassword: 'alice-pass',
              newPassword: 'alice-pass-2',
            }),
          [401],
        ];
        const tamperedNow = () => redis.set(key(target), tampered, 'PX', 3_600_000);
        const outcomes: string[] = [];

        for (const [route, send, allowed] of [me, increment, ...stepUps, password]) {
          // Each route as the first request on the tampered session.
          await tamperedNow();
          const res = await settled(send);
          const left = await redis.exists(key(target));
          if (!allowed.includes(res.status) || left !== 0) {
            outcomes.push(`${route}: ${answer(res)}, key ${left ? 'kept' : 'deleted'}`);
          }
        }
        // The review's sequence: a write first (were the session admitted as a fresh login, it
        // would be stored with a new owner, authenticated now), then the step-up routes on
        // whatever that write left.
        await tamperedNow();
        for (const [route, send, allowed] of [increment, ...stepUps]) {
          const res = await settled(send);
          if (!allowed.includes(res.status)) {
            outcomes.push(`after the write, ${route}: ${answer(res)}`);
          }
        }
        if ((await redis.exists(key(target))) !== 0) {
          outcomes.push('after the write, the key is still there');
        }

        expect(outcomes).toEqual([]);
        // Nothing the tampered session asked for happened, and no identity was admitted.
        expect((await otherDevice.get('/me')).status).toBe(200);
        expect((await bob.get('/me')).status).toBe(200);
        expect(await redis.exists(`sessions-index:acme:${sample.appName}:admin`)).toBe(0);
      },
    );
  });
});
