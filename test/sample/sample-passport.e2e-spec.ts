import { Redis } from 'ioredis';
import { SessionRevocationService } from 'nestjs-tenant-session';
import { UserDirectory } from '../../sample/auth/user-directory.service.js';
import { startSample, type RunningSample } from '../support/sample.js';
import { Visitor } from '../support/visitor.js';

// A file of its own: the sample replaces passport's process-wide "session" strategy, which the
// apps in passport-first-class.e2e-spec.ts rely on.

describe('the sample logs in through passport-local', () => {
  let redis: Redis;
  let sample: RunningSample;

  beforeAll(() => {
    redis = new Redis(process.env.TEST_REDIS_URL!);
  });
  afterAll(() => redis.disconnect());
  beforeEach(async () => {
    sample = await startSample();
  });
  afterEach(() => sample.close());

  const login = async (username: string) => {
    const browser = new Visitor(sample.http, 'acme.localhost');
    const res = await browser.post('/auth/login', { username, password: `${username}-pass` });
    expect(res.status).toBe(200);
    return browser;
  };
  const stored = async (browser: Visitor) =>
    JSON.parse(
      (await redis.get(`sessions:acme:${sample.appName}:${browser.sessionId()}`)) ?? 'null',
    ) as Record<string, unknown> | null;

  it("stores passport's user beside the sample's own fields, indexed under the username", async () => {
    const alice = await login('alice');

    expect(await stored(alice)).toMatchObject({
      passport: { user: 'alice' },
      user: 'alice',
      count: 0,
      _owner: expect.any(Object),
    });
    const listed = (await sample.app.get(SessionRevocationService).list('acme', 'alice')).sessions;
    expect(listed).toHaveLength(1);
    expect((await alice.get('/me')).body).toEqual({ user: 'alice', tenant: 'acme', count: 0 });
  });

  it("signs out a user who is gone from the tenant's directory on their next request, in that tenant only", async () => {
    const alice = await login('alice');
    const bob = await login('bob');
    const globexAlice = new Visitor(sample.http, 'globex.localhost');
    await globexAlice.post('/auth/login', { username: 'alice', password: 'alice-pass' });

    // The sample has no route deleting users; remove alice from acme as a database would.
    const users = (sample.app.get(UserDirectory) as unknown as { users: Map<string, unknown> })
      .users;
    expect(users.delete('acme\u0000alice')).toBe(true);

    expect((await alice.get('/me')).status).toBe(401);
    expect(await stored(alice)).toMatchObject({ passport: {} });
    expect((await sample.app.get(SessionRevocationService).list('acme', 'alice')).sessions).toEqual(
      [],
    );
    expect((await bob.get('/me')).status).toBe(200);
    expect((await globexAlice.get('/me')).body).toMatchObject({ user: 'alice', tenant: 'globex' });
  });
});
