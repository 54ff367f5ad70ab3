import { Redis } from 'ioredis';
import request from 'supertest';
import { createReaderApp, type ReaderApp } from '../../sample/reader/reader-app.js';
import { loadSampleConfig } from '../../sample/sample-config.js';
import { SAMPLE_SECRET, startSample, type RunningSample } from '../support/sample.js';
import { Visitor } from '../support/visitor.js';

const ACME = 'acme.localhost';

/** The plain Express reader (express-session + connect-redis) next to the Nest sample. */
describe('sample reader service', () => {
  let redis: Redis;
  let sample: RunningSample;
  let reader: ReaderApp;

  const startReader = (secret = SAMPLE_SECRET) =>
    createReaderApp(
      loadSampleConfig({
        REDIS_URL: process.env.TEST_REDIS_URL,
        SESSION_SECRET: secret,
        APP_NAME: sample.appName,
      }),
    );
  const loggedIn = async (username: string, host = ACME) => {
    const v = new Visitor(sample.http, host);
    expect((await v.post('/auth/login', { username, password: `${username}-pass` })).status).toBe(
      200,
    );
    return v;
  };

  beforeAll(() => {
    redis = new Redis(process.env.TEST_REDIS_URL!);
  });
  afterAll(() => redis.quit());
  beforeEach(async () => {
    sample = await startSample();
    reader = startReader();
  });
  afterEach(async () => {
    await reader.close();
    await sample.close();
  });

  it('reads a session the Nest app wrote', async () => {
    const alice = await loggedIn('alice');
    await alice.post('/increment');
    await alice.post('/increment');

    const res = await alice.on(reader.app).get('/whoami');

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ service: 'reader', tenant: 'acme', user: 'alice', count: 2 });
  });

  it('sees a change the Nest app makes at once', async () => {
    const alice = await loggedIn('alice');
    await alice.on(reader.app).get('/whoami');

    await alice.post('/increment');

    expect((await alice.on(reader.app).get('/whoami')).body.count).toBe(1);
  });

  it('only reads: the stored session and its TTL are left as they were', async () => {
    const alice = await loggedIn('alice');
    const key = `sessions:acme:${sample.appName}:${alice.sessionId()}`;
    const stored = await redis.get(key);
    const ttlBefore = await redis.pttl(key);
    // Long enough for a TTL refresh (to whole seconds, as connect-redis does) to show.
    await new Promise((resolve) => setTimeout(resolve, 1100));

    const res = await alice.on(reader.app).get('/whoami');

    expect(res.status).toBe(200);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(await redis.get(key)).toBe(stored);
    expect(await redis.pttl(key)).toBeLessThanOrEqual(ttlBefore - 1000);
  });

  it('sees a revocation in the Nest app at once', async () => {
    const laptop = await loggedIn('alice');
    const phone = await loggedIn('alice');
    expect((await phone.on(reader.app).get('/whoami')).status).toBe(200);

    await laptop.post('/sessions/revoke-others');

    const res = await phone.on(reader.app).get('/whoami');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ statusCode: 401, message: 'Login required' });
    expect((await laptop.on(reader.app).get('/whoami')).status).toBe(200);
  });

  it('a logout at the reader is seen by the Nest app at once', async () => {
    const laptop = await loggedIn('alice');
    const phone = await loggedIn('alice');

    const res = await phone.on(reader.app).post('/logout');

    expect(res.body).toEqual({ loggedOut: true });
    expect((await phone.get('/me')).status).toBe(401);
    expect((await laptop.get('/sessions')).body.sessions).toHaveLength(1);
  });

  it('keeps tenants apart: an acme session is no session on globex', async () => {
    const alice = await loggedIn('alice');

    const res = await request(reader.app)
      .get('/whoami')
      .set('Host', 'globex.localhost')
      .set('Cookie', alice.cookieHeader);

    expect(res.status).toBe(401);
  });

  it('answers an unknown Host like the Nest app does', async () => {
    const res = await request(reader.app).get('/whoami').set('Host', 'initech.localhost');

    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      statusCode: 404,
      error: 'Unknown Tenant',
      code: 'UNKNOWN_TENANT',
      message: 'Unknown tenant',
    });
  });

  it('cannot read the sessions without the same secret', async () => {
    const alice = await loggedIn('alice');
    const stranger = startReader('another-secret-0123456789abcdef');
    try {
      expect((await alice.on(stranger.app).get('/whoami')).status).toBe(401);
    } finally {
      await stranger.close();
    }
  });

  it('refuses to start without Redis (the embedded store is not shared)', () => {
    expect(() => createReaderApp(loadSampleConfig({ SESSION_SECRET: SAMPLE_SECRET }))).toThrow(
      /needs REDIS_URL/,
    );
  });
});
