/**
 * The sample hardened as a production app: password attempts limited in Redis (429 with
 * Retry-After, 503 when Redis fails), `trust proxy` and Secure cookies behind a
 * TLS-terminating proxy, no X-Powered-By, `Cache-Control: no-store` on session answers (the
 * module's), 500s logged without request data.
 */
import { ConsoleLogger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import request from 'supertest';
import { UserDirectory } from '../../sample/auth/user-directory.service.js';
import { loadSampleConfig } from '../../sample/sample-config.js';
import { startRedisServer } from '../support/redis-server.mjs';
import { startSample, type RunningSample } from '../support/sample.js';
import { Visitor } from '../support/visitor.js';

const ACME = 'acme.localhost';
const GLOBEX = 'globex.localhost';

/** Samples a test started, closed after it whatever happened. */
const running: RunningSample[] = [];
afterEach(async () => {
  for (const sample of running.splice(0)) await sample.close();
});
async function sample(env: Record<string, string> = {}): Promise<RunningSample> {
  const started = await startSample(env);
  running.push(started);
  return started;
}

/** A login attempt from `address` (believed with TRUST_PROXY), as a proxy would forward it. */
function attempt(
  app: RunningSample,
  username: string,
  password: string,
  from = '10.0.0.1',
  host = ACME,
) {
  return request(app.http)
    .post('/auth/login')
    .set('Host', host)
    .set('X-Forwarded-For', from)
    .send({ username, password });
}

describe('password attempts are limited per tenant, username and client address', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(process.env.TEST_REDIS_URL!);
  });
  afterAll(() => redis.quit());

  const LIMITED = { LOGIN_ATTEMPTS_PER_MINUTE: '3', TRUST_PROXY: 'loopback' };

  it('the attempt past the limit answers 429 TOO_MANY_ATTEMPTS with Retry-After, even with the right password', async () => {
    const app = await sample(LIMITED);
    for (let i = 0; i < 3; i++) expect((await attempt(app, 'alice', 'wrong')).status).toBe(401);

    const refused = await attempt(app, 'alice', 'alice-pass');
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ statusCode: 429, code: 'TOO_MANY_ATTEMPTS' });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.body.retryAfter).toBe(retryAfter);
    expect(refused.headers['set-cookie']).toBeUndefined();
  });

  it('another address, another user or another tenant is not limited by it', async () => {
    const app = await sample(LIMITED);
    for (let i = 0; i < 3; i++) await attempt(app, 'alice', 'wrong');
    expect((await attempt(app, 'alice', 'wrong')).status).toBe(429);

    expect((await attempt(app, 'alice', 'alice-pass', '10.0.0.2')).status).toBe(200);
    expect((await attempt(app, 'bob', 'bob-pass')).status).toBe(200);
    expect((await attempt(app, 'alice', 'alice-pass', '10.0.0.1', GLOBEX)).status).toBe(200);
  });

  it('without TRUST_PROXY, X-Forwarded-For is not believed: a client cannot dodge the limit with it', async () => {
    const app = await sample({ LOGIN_ATTEMPTS_PER_MINUTE: '3' });
    for (let i = 0; i < 3; i++) await attempt(app, 'alice', 'wrong', `10.0.0.${i}`);
    expect((await attempt(app, 'alice', 'alice-pass', '10.0.0.99')).status).toBe(429);
  });

  it('counts in Redis, shared by every instance, under keys that name no user or address', async () => {
    const appName = `sample-attempts-${process.pid}-${Date.now()}`;
    const one = await sample({ ...LIMITED, APP_NAME: appName });
    const two = await sample({ ...LIMITED, APP_NAME: appName });
    for (let i = 0; i < 3; i++) expect((await attempt(one, 'alice', 'wrong')).status).toBe(401);
    expect((await attempt(two, 'alice', 'alice-pass')).status).toBe(429);

    const keys = await redis.keys(`attempts:${appName}:*`);
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toMatch(/alice|10\.0\.0\.1|acme/);
    expect(await redis.pttl(keys[0])).toBeGreaterThan(0);
  });

  it('re-authentication and password changes are limited the same way: 403s, then 429', async () => {
    const app = await sample(LIMITED);
    const alice = new Visitor(app.http, ACME);
    const login = await alice.post('/auth/login', { username: 'alice', password: 'alice-pass' });
    expect(login.status).toBe(200);
    for (let i = 0; i < 3; i++) {
      expect((await alice.post('/auth/reauthenticate', { password: 'wrong' })).status).toBe(403);
    }
    expect((await alice.post('/auth/reauthenticate', { password: 'alice-pass' })).status).toBe(429);
    const change = { currentPassword: 'wrong', newPassword: 'new-password-1' };
    for (let i = 0; i < 3; i++)
      expect((await alice.post('/auth/password', change)).status).toBe(403);
    expect((await alice.post('/auth/password', change)).status).toBe(429);
  });

  it('with the embedded store, attempts are counted in the process', async () => {
    const app = await sample({ ...LIMITED, REDIS_URL: '' });
    for (let i = 0; i < 3; i++) expect((await attempt(app, 'alice', 'wrong')).status).toBe(401);
    expect((await attempt(app, 'alice', 'alice-pass')).status).toBe(429);
  });

  it('a Redis that does not answer is a fast 503 SESSION_STORE_UNAVAILABLE, never a 500', async () => {
    const server = await startRedisServer();
    try {
      // The sample's default budget (the test helpers give a loaded machine more).
      const app = await sample({ REDIS_URL: server.url, REDIS_TIMEOUT_MS: '1000' });
      expect((await attempt(app, 'alice', 'alice-pass')).status).toBe(200);
      server.pause(); // frozen: connections stay open, nothing answers
      const startedAt = performance.now();
      const frozen = await attempt(app, 'alice', 'alice-pass');
      expect(frozen.status).toBe(503);
      expect(frozen.body.code).toBe('SESSION_STORE_UNAVAILABLE');
      expect(performance.now() - startedAt).toBeLessThan(3000);
      server.resume();
      await server.stop(); // down: refused at once
      const down = await attempt(app, 'alice', 'alice-pass');
      expect(down.status).toBe(503);
      expect(down.body.code).toBe('SESSION_STORE_UNAVAILABLE');
    } finally {
      server.resume();
      await server.stop();
    }
  });

  it('REDIS_TIMEOUT_MS is how long a request waits on a frozen Redis before its 503', async () => {
    const timeoutMs = 2500;
    const server = await startRedisServer();
    try {
      const app = await sample({ REDIS_URL: server.url, REDIS_TIMEOUT_MS: String(timeoutMs) });
      const alice = new Visitor(app.http, ACME);
      expect(
        (await alice.post('/auth/login', { username: 'alice', password: 'alice-pass' })).status,
      ).toBe(200);
      server.pause();
      // The session work (the module's operationTimeoutMs), then the password-attempt count.
      for (const send of [() => alice.get('/me'), () => attempt(app, 'bob', 'bob-pass')]) {
        const startedAt = performance.now();
        const answer = await send();
        const waitedMs = performance.now() - startedAt;
        expect(answer.status).toBe(503);
        expect(answer.body.code).toBe('SESSION_STORE_UNAVAILABLE');
        // Past the default second, so the setting was applied; a timer may fire a hair early.
        expect(waitedMs).toBeGreaterThanOrEqual(timeoutMs - 50);
        expect(waitedMs).toBeLessThan(timeoutMs + 3000);
      }
    } finally {
      server.resume();
      await server.stop();
    }
  });
});

describe('behind a TLS-terminating proxy (TRUST_PROXY)', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['false', false],
    ['true', true],
    ['1', 1],
    ['loopback', 'loopback'],
    ['10.0.0.0/8, 127.0.0.1', '10.0.0.0/8, 127.0.0.1'],
  ])('TRUST_PROXY=%j is trust proxy %j', (raw, expected) => {
    const env = { SESSION_SECRET: 'x'.repeat(32), TRUST_PROXY: raw };
    expect(loadSampleConfig(env).trustProxy).toEqual(expected);
  });

  const login = (app: RunningSample) =>
    request(app.http)
      .post('/auth/login')
      .set('Host', ACME)
      .set('X-Forwarded-Proto', 'https')
      .send({ username: 'alice', password: 'alice-pass' });

  it('with TRUST_PROXY, a login forwarded as HTTPS gets a Secure session cookie', async () => {
    const res = await login(await sample({ TRUST_PROXY: 'loopback' }));
    expect(res.status).toBe(200);
    expect(res.headers['set-cookie']?.[0]).toMatch(/;\s*Secure/i);
  });

  it('without it, X-Forwarded-Proto is not believed: no Secure attribute', async () => {
    const res = await login(await sample());
    expect(res.status).toBe(200);
    expect(res.headers['set-cookie']?.[0]).toBeDefined();
    expect(res.headers['set-cookie']?.[0]).not.toMatch(/Secure/i);
  });
});

describe('headers of every answer', () => {
  it('no X-Powered-By, on pages, JSON and errors', async () => {
    const app = await sample();
    for (const path of ['/', '/me', '/no-such-route']) {
      const res = await request(app.http).get(path).set('Host', ACME);
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('Cache-Control: no-store on answers that set the session cookie or answer a request carrying it', async () => {
    const app = await sample();
    const alice = new Visitor(app.http, ACME);
    const login = await alice.post('/auth/login', { username: 'alice', password: 'alice-pass' });
    expect(login.headers['set-cookie']).toBeDefined();
    expect(login.headers['cache-control']).toBe('no-store');
    for (const res of [
      await alice.get('/me'),
      await alice.get('/sessions'),
      await alice.post('/increment'),
      await alice.post('/auth/logout'),
    ]) {
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });
});

describe('a 500 is logged without request data', () => {
  it('logs the method, the route and the stack frames; no cookie, header, body or message', async () => {
    const lines: string[] = [];
    const logger = new (class extends ConsoleLogger {
      override error(message: unknown, ...rest: unknown[]): void {
        lines.push([message, ...rest].map(String).join(' '));
      }
      override log(): void {}
      override warn(): void {}
    })();
    const { app, http, close } = await startSample({}, { logger });
    try {
      // A fault in the app's code whose message quotes what the request sent.
      app.get(UserDirectory).authenticate = async (_tenant: string, user: string, pass: string) => {
        throw new TypeError(`no such user ${user} with ${pass}`);
      };
      const res = await request(http)
        .post('/auth/login')
        .set('Host', ACME)
        .set('Cookie', 'sid=cookie-marker')
        .set('X-Api-Key', 'header-marker')
        .send({ username: 'user-marker', password: 'body-marker' });

      expect(res.status).toBe(500);
      expect(res.body).toEqual({ statusCode: 500, message: 'Internal server error' });
      const logged = lines.join('\n');
      expect(logged).toMatch(/POST \/auth\/login failed: TypeError/);
      expect(logged).toMatch(/\s+at /);
      expect(logged).not.toMatch(/marker/);
    } finally {
      await close();
    }
  });
});
