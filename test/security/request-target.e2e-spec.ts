import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startSample, type RunningSample } from '../support/sample.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';

/**
 * The request target in the absolute form (`GET http://acme.test/me HTTP/1.1`), as a client
 * sends it to a proxy and as HTTP/1.1 servers must accept it: Express routes it by the path it
 * holds, and the session must follow the same path. Sent over a real socket, since supertest
 * and browsers only send the origin form (`GET /me`).
 */
interface Answer {
  status: number;
  body: unknown;
  setCookie: string[];
}

/** One request to the app on `port`, with `target` written as it is on the request line. */
function send(
  port: number,
  method: string,
  target: string,
  headers: Record<string, string>,
  body?: object,
): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path: target,
        agent: false,
        headers: {
          ...headers,
          ...(payload === undefined
            ? { 'Content-Length': '0' }
            : { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const json = (res.headers['content-type'] ?? '').startsWith('application/json');
          resolve({
            status: res.statusCode!,
            body: json ? JSON.parse(text) : text,
            setCookie: res.headers['set-cookie'] ?? [],
          });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** A request in both forms: the origin form first, then the absolute form of the same target. */
async function bothForms(
  port: number,
  host: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: object,
): Promise<[Answer, Answer]> {
  const all = { Host: host, ...headers };
  const origin = await send(port, method, path, all, body);
  const absolute = await send(port, method, `http://${host}${path}`, all, body);
  return [origin, absolute];
}

const portOf = (server: { address(): unknown }) => (server.address() as AddressInfo).port;

describe('an absolute-form request target is answered as the origin form is', () => {
  const APP = 'absolute-form';
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await listening({ appName: APP });
    port = portOf(t.http);
  });
  afterAll(() => t?.close());

  async function listening(options: Parameters<typeof createTestApp>[0]): Promise<TestApp> {
    const app = await createTestApp(options);
    await app.app.listen(0, '127.0.0.1');
    return app;
  }

  async function loggedIn(user: string): Promise<Visitor> {
    const visitor = new Visitor(t.http, 'acme.test');
    expect((await visitor.post('/login', { user })).status).toBe(201);
    return visitor;
  }

  it('GET /me: 401 without a session, the session with its cookie', async () => {
    const anonymous = await bothForms(port, 'acme.test', 'GET', '/me');
    expect(anonymous.map((a) => a.status)).toEqual([401, 401]);
    expect(anonymous[1].body).toEqual(anonymous[0].body);

    const alice = await loggedIn('alice');
    const [origin, absolute] = await bothForms(port, 'acme.test', 'GET', '/me?x=1', {
      Cookie: alice.cookieHeader,
    });
    expect(origin).toMatchObject({ status: 200, body: { user: 'alice', tenant: 'acme' } });
    expect(absolute.status).toBe(200);
    expect(absolute.body).toEqual(origin.body);
  });

  it('a change to the session is stored, and a new session gets its cookie', async () => {
    const alice = await loggedIn('alice');
    const increments = await bothForms(port, 'acme.test', 'POST', '/increment', {
      Cookie: alice.cookieHeader,
    });
    expect(increments.map((a) => [a.status, a.body])).toEqual([
      [201, { count: 1 }],
      [201, { count: 2 }],
    ]);
    expect((await alice.get('/me')).body.count).toBe(2);

    const visits = await bothForms(port, 'acme.test', 'POST', '/visit');
    for (const visit of visits) {
      expect(visit).toMatchObject({ status: 201, body: { tenant: 'acme', visits: 1 } });
      expect(visit.setCookie).toEqual([expect.stringMatching(/^sid=s%3A/)]);
    }
  });

  it('a login in the absolute form logs in', async () => {
    const login = await send(
      port,
      'POST',
      'http://acme.test/login',
      { Host: 'acme.test' },
      { user: 'bob' },
    );
    expect(login.status).toBe(201);
    const cookie = login.setCookie[0].split(';')[0];
    const me = await send(port, 'GET', '/me', { Host: 'acme.test', Cookie: cookie });
    expect(me).toMatchObject({ status: 200, body: { user: 'bob' } });
  });

  it('a scoped cookie path is checked against the path the target holds', async () => {
    const scoped = await listening({ appName: APP, cookie: { path: '/me' } });
    try {
      const cookie = { Cookie: (await loggedIn('alice')).cookieHeader };
      const scopedPort = portOf(scoped.http);
      const inside = await bothForms(scopedPort, 'acme.test', 'GET', '/me', cookie);
      expect(inside.map((a) => a.status)).toEqual([200, 200]);
      const outside = await bothForms(scopedPort, 'acme.test', 'GET', '/sessions', cookie);
      expect(outside.map((a) => a.status)).toEqual([401, 401]);
    } finally {
      await scoped.close();
    }
  });

  it('the CSRF defence reads the same origin from it', async () => {
    const cookie = (await loggedIn('alice')).cookieHeader;
    const foreign = await bothForms(port, 'acme.test', 'POST', '/increment', {
      Cookie: cookie,
      Origin: 'http://evil.example',
    });
    expect(foreign.map((a) => a.status)).toEqual([403, 403]);
    expect(foreign[1].body).toEqual(foreign[0].body);
    const own = await bothForms(port, 'acme.test', 'POST', '/increment', {
      Cookie: cookie,
      Origin: 'http://acme.test',
    });
    expect(own.map((a) => a.status)).toEqual([201, 201]);
  });

  it('an unknown host is the same 404', async () => {
    const answers = await bothForms(port, 'unknown.test', 'GET', '/me');
    expect(answers.map((a) => a.status)).toEqual([404, 404]);
    expect(answers[1].body).toEqual(answers[0].body);
  });
});

describe('the sample, asked in the absolute form', () => {
  let sample: RunningSample;
  let port: number;
  beforeAll(async () => {
    sample = await startSample({}, { listen: true });
    port = portOf(sample.http);
  });
  afterAll(() => sample?.close());

  const ACME = 'acme.localhost';

  it('answers every kind of route as in the origin form, never 500', async () => {
    const alice = new Visitor(sample.http, ACME);
    expect(
      (await alice.post('/auth/login', { username: 'alice', password: 'alice-pass' })).status,
    ).toBe(200);
    const cookie = { Cookie: alice.cookieHeader };

    const page = await bothForms(port, ACME, 'GET', '/');
    expect(page.map((a) => a.status)).toEqual([200, 200]);
    const me = await bothForms(port, ACME, 'GET', '/me', cookie);
    expect(me.map((a) => a.status)).toEqual([200, 200]);
    expect(me[1].body).toEqual({ user: 'alice', tenant: 'acme', count: 0 });
    const anonymous = await bothForms(port, ACME, 'GET', '/me');
    expect(anonymous.map((a) => a.status)).toEqual([401, 401]);
    const sessions = await bothForms(port, ACME, 'GET', '/sessions', cookie);
    expect(sessions.map((a) => a.status)).toEqual([200, 200]);

    const login = await send(
      port,
      'POST',
      `http://${ACME}/auth/login`,
      { Host: ACME },
      { username: 'bob', password: 'bob-pass' },
    );
    expect(login).toMatchObject({ status: 200, body: { user: 'bob', tenant: 'acme' } });
  });
});
