/**
 * The sample hardened as a production app: `trust proxy` and Secure cookies behind a
 * TLS-terminating proxy, no X-Powered-By, `Cache-Control: no-store` on session answers (the
 * module's), 500s logged without request data.
 */
import { ConsoleLogger } from '@nestjs/common';
import request from 'supertest';
import { UserDirectory } from '../../sample/auth/user-directory.service.js';
import { createSampleApp } from '../../sample/sample-app.js';
import { loadSampleConfig } from '../../sample/sample-config.js';
import { SAMPLE_SECRET, startSample, type RunningSample } from '../support/sample.js';
import { Visitor } from '../support/visitor.js';

const ACME = 'acme.localhost';

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
    const app = await createSampleApp(
      { REDIS_URL: process.env.TEST_REDIS_URL, SESSION_SECRET: SAMPLE_SECRET },
      { logger },
    );
    await app.init();
    try {
      // A fault in the app's code whose message quotes what the request sent.
      app.get(UserDirectory).authenticate = async (_tenant: string, user: string, pass: string) => {
        throw new TypeError(`no such user ${user} with ${pass}`);
      };
      const res = await request(app.getHttpServer())
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
      await app.close();
    }
  });
});
