import { Cluster, Redis } from 'ioredis';
import type { SessionRevokedEvent } from 'nestjs-tenant-session';
import { performance } from 'node:perf_hooks';
import type { Socket as ClientSocket } from 'socket.io-client';
import request from 'supertest';
import { signature } from '../../lib/session/session-cookie.js';
import { startAppProcess, type AppProcess } from '../support/fault-app-process.js';
import { CommandMonitor } from '../support/monitor.js';
import { startRedisCluster } from '../support/redis-cluster.mjs';
import { startRedisServer, type RedisServer } from '../support/redis-server.mjs';
import { TcpGate } from '../support/tcp-gate.js';
import { TEST_SECRET } from '../support/test-app.js';
import { PLATFORMS } from '../support/testing-app.js';
import { Visitor } from '../support/visitor.js';
import {
  ask,
  connectSocket,
  ending,
  nextException,
  startWsApp,
  within,
  type ConnectOptions,
  type WsApp,
} from '../support/ws-app.js';

/** Generous: the machine is shared and other suites may run beside this one. */
const EVENT_WAIT_MS = 10_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sockets a test opened, closed after it whatever happened. */
const opened: ClientSocket[] = [];
afterEach(() => {
  for (const socket of opened.splice(0)) socket.close();
});
async function open(url: string, options?: ConnectOptions): Promise<ClientSocket> {
  const socket = await connectSocket(url, options);
  opened.push(socket);
  return socket;
}

async function loginOn(url: string, user: string, host = 'acme.test', path = '/login') {
  const visitor = new Visitor(url, host, `${user}-device`);
  const res = await visitor.post(path, { user });
  expect(res.status).toBe(201);
  return visitor;
}

/** The same cookie with its signature altered (last characters), as a forger would send it. */
function forged(visitor: Visitor): string {
  const sid = visitor.sessionId()!;
  return `sid=${encodeURIComponent(`s:${sid}.${'A'.repeat(43)}`)}`;
}

describe.each(PLATFORMS)(
  'on %s, a socket gets its tenant and session at the handshake',
  (platform) => {
    const APP = `ws-handshake-${platform}`;
    let app: WsApp;
    let redis: Redis;

    beforeAll(async () => {
      redis = new Redis(process.env.TEST_REDIS_URL!);
      app = await startWsApp({ appName: APP, platform });
    });
    afterAll(async () => {
      await app?.close();
      redis?.disconnect();
    });

    it('a logged-in socket knows its tenant, user and session handle, never the session id', async () => {
      const alice = await loginOn(app.url, 'alice');
      const socket = await open(app.url, { cookie: alice.cookieHeader });
      const me = await ask(socket, 'whoami');
      expect(me).toMatchObject({ tenant: 'acme', user: 'alice', userId: 'alice' });
      expect(me.sessionHandle).toMatch(/^[\w-]{22}$/);
      expect(me.data).toMatchObject({
        tenant: 'acme',
        userId: 'alice',
        session: { user: 'alice' },
      });
      expect(JSON.stringify(me)).not.toContain(alice.sessionId()!);
      expect(await ask(socket, 'secret')).toEqual({ userId: 'alice' });
      expect(await ask(socket, 'user-id')).toEqual({ userId: 'alice' });
    });

    it('the session handle is the one session listings show', async () => {
      const alice = await loginOn(app.url, 'alice');
      const socket = await open(app.url, { cookie: alice.cookieHeader });
      const { sessionHandle } = await ask(socket, 'whoami');
      const listed = (await app.sessions.list('acme', 'alice')).sessions;
      expect(listed.map((s) => s.id)).toContain(sessionHandle);
    });

    it('a socket without a cookie connects anonymously; guard and @SessionUserId answer "Login required"', async () => {
      const socket = await open(app.url);
      expect(await ask(socket, 'whoami')).toMatchObject({
        tenant: 'acme',
        user: null,
        userId: null,
      });
      const refused = nextException(socket);
      socket.emit('secret', {});
      expect(await refused).toMatchObject({ status: 'error', message: 'Login required' });
      const refusedAgain = nextException(socket);
      socket.emit('user-id', {});
      expect(await refusedAgain).toMatchObject({ status: 'error', message: 'Login required' });
    });

    it('an unknown host is refused at the handshake with a clear connect_error', async () => {
      const refusal = await connectSocket(app.url, { host: 'unknown.test' }).then(
        () => undefined,
        (error: Error & { data?: unknown }) => error,
      );
      expect(refusal?.message).toBe('Unknown tenant');
      expect(refusal?.data).toEqual({ status: 404, code: 'UNKNOWN_TENANT' });
    });

    it('a forged cookie, or one signed with another secret, is an anonymous socket', async () => {
      const alice = await loginOn(app.url, 'alice');
      const sid = alice.sessionId()!;
      const otherSecret = `sid=${encodeURIComponent(`s:${sid}.${signature(sid, 'another-secret-0123456789abcdefgh')}`)}`;
      for (const cookie of [forged(alice), otherSecret, `sid=${sid}`]) {
        const socket = await open(app.url, { cookie });
        expect(await ask(socket, 'whoami')).toMatchObject({ userId: null, user: null });
      }
      // The genuine cookie still works: nothing was wrong with the session.
      const genuine = await open(app.url, { cookie: alice.cookieHeader });
      expect(await ask(genuine, 'whoami')).toMatchObject({ userId: 'alice' });
      expect(signature(sid, TEST_SECRET)).toBe(
        decodeURIComponent(alice.cookies.get('sid')!).split('.').pop(),
      );
    });

    it("another tenant's cookie is no session here", async () => {
      const alice = await loginOn(app.url, 'alice', 'acme.test');
      const socket = await open(app.url, { host: 'globex.test', cookie: alice.cookieHeader });
      expect(await ask(socket, 'whoami')).toMatchObject({ tenant: 'globex', userId: null });
    });

    it("a page of another origin is refused; the socket's own origin and no origin are not", async () => {
      const alice = await loginOn(app.url, 'alice');
      const refusal = await connectSocket(app.url, {
        cookie: alice.cookieHeader,
        origin: `http://globex.test:${new URL(app.url).port}`,
      }).then(
        () => undefined,
        (error: Error & { data?: unknown }) => error,
      );
      expect(refusal?.message).toBe('Origin not allowed');
      expect(refusal?.data).toEqual({ status: 403, code: 'ORIGIN_NOT_ALLOWED' });
      for (const origin of ['http://evil.example', 'null']) {
        await expect(connectSocket(app.url, { origin })).rejects.toThrow('Origin not allowed');
      }
      const own = `http://acme.test:${new URL(app.url).port}`;
      const same = await open(app.url, { cookie: alice.cookieHeader, origin: own });
      expect(await ask(same, 'whoami')).toMatchObject({ userId: 'alice' });
    });

    it('allowOrigin decides in place of the default, given the origin and the handshake request', async () => {
      const seen: unknown[] = [];
      const custom = await startWsApp({
        appName: APP,
        platform,
        adapter: {
          allowOrigin: (origin, req) => {
            seen.push({ origin, host: req.host, hostname: req.hostname, ip: req.ip });
            return req.get('Origin') === 'https://app.example.com';
          },
        },
      });
      try {
        const alice = await loginOn(custom.url, 'alice');
        const front = 'https://app.example.com';
        const socket = await open(custom.url, { cookie: alice.cookieHeader, origin: front });
        expect(await ask(socket, 'whoami')).toMatchObject({ userId: 'alice' });
        const host = `acme.test:${new URL(custom.url).port}`;
        await expect(connectSocket(custom.url, { origin: `http://${host}` })).rejects.toThrow(
          'Origin not allowed',
        );
        expect(seen).toEqual([
          { origin: front, host, hostname: 'acme.test', ip: '127.0.0.1' },
          { origin: `http://${host}`, host, hostname: 'acme.test', ip: '127.0.0.1' },
        ]);
      } finally {
        await custom.close();
      }
    });

    it('a gateway on a namespace of its own gets the same, and the same refusals', async () => {
      const alice = await loginOn(app.url, 'alice');
      const socket = await open(`${app.url}/admin`, { cookie: alice.cookieHeader });
      expect(await ask(socket, 'whoami')).toEqual({
        tenant: 'acme',
        userId: 'alice',
        namespace: 'admin',
      });
      const anonymous = await open(`${app.url}/admin`);
      const refused = nextException(anonymous);
      anonymous.emit('whoami', {});
      expect(await refused).toMatchObject({ message: 'Login required' });
      await expect(connectSocket(`${app.url}/admin`, { host: 'unknown.test' })).rejects.toThrow(
        'Unknown tenant',
      );
    });

    it('works the same over HTTP long-polling', async () => {
      const alice = await loginOn(app.url, 'alice');
      const socket = await open(app.url, { cookie: alice.cookieHeader, transports: ['polling'] });
      expect(await ask(socket, 'whoami')).toMatchObject({ tenant: 'acme', userId: 'alice' });
    });

    it('sockets never extend a session: its TTL keeps falling while they connect and talk', async () => {
      const alice = await loginOn(app.url, 'alice');
      const key = `sessions:acme:${APP}:${alice.sessionId()}`;
      const before = await redis.pttl(key);
      const started = performance.now();
      // Handshakes over both transports, messages, reconnections, for well over a second.
      for (let round = 0; round < 4; round++) {
        const sockets = await Promise.all([
          connectSocket(app.url, { cookie: alice.cookieHeader }),
          connectSocket(app.url, { cookie: alice.cookieHeader, transports: ['polling'] }),
        ]);
        for (const socket of sockets) {
          await ask(socket, 'whoami');
          await ask(socket, 'secret');
          socket.close();
        }
        await sleep(300);
      }
      const elapsed = performance.now() - started;
      const after = await redis.pttl(key);
      expect(elapsed).toBeGreaterThan(1200);
      // PTTL counts down in real time: nothing restarted it (a restart would put it back near 3600 s).
      expect(after).toBeLessThanOrEqual(before - elapsed + 50);
      expect(after).toBeGreaterThan(0);
    });
  },
);

/**
 * Several cookies of the session's name in one handshake (one tossed from a sibling subdomain):
 * the socket runs with the session an HTTP request with the same Cookie header runs with, never
 * the first cookie's (see duplicate-cookies.e2e-spec.ts for HTTP).
 */
describe('a handshake with several session cookies gets the session HTTP would', () => {
  const APP = 'ws-duplicate-cookies';
  let app: WsApp;

  beforeAll(async () => {
    app = await startWsApp({ appName: APP });
  });
  afterAll(() => app?.close());

  /** `name=value` of the visitor's session cookie. */
  const sid = (visitor: Visitor) => `sid=${visitor.cookies.get('sid')}`;
  const GARBAGE = 'sid=garbage';
  async function goneCookie(): Promise<string> {
    const mallory = await loginOn(app.url, 'mallory');
    const cookie = sid(mallory);
    expect((await mallory.post('/logout')).status).toBe(201);
    return cookie;
  }

  /** Who HTTP and a socket each say the visitor is, sending exactly these cookies in order. */
  async function whoIs(cookies: string[]) {
    const cookie = cookies.join('; ');
    const me = await request(app.url).get('/me').set('Host', 'acme.test').set('Cookie', cookie);
    const socket = await open(app.url, { cookie });
    const { userId } = await ask(socket, 'whoami');
    return {
      http: me.status === 200 ? me.body.userId : me.status,
      socket: userId,
      socketOf: socket,
    };
  }

  it.each([
    ['garbage, then alice', async (alice: string) => [GARBAGE, alice]],
    ['alice, then garbage', async (alice: string) => [alice, GARBAGE]],
    ['a gone session, then alice', async (alice: string) => [await goneCookie(), alice]],
    ['alice, then a gone session', async (alice: string) => [alice, await goneCookie()]],
    ['alice twice', async (alice: string) => [alice, alice]],
  ])('%s: the socket is alice, as over HTTP', async (_, cookies) => {
    const alice = sid(await loginOn(app.url, 'alice'));
    const { http, socket } = await whoIs(await cookies(alice));
    expect(http).toBe('alice');
    expect(socket).toBe('alice');
  });

  it.each(['first', 'second'])(
    "two live sessions, alice's %s: the socket is anonymous, as HTTP answers 401",
    async (place) => {
      const alice = await loginOn(app.url, 'alice');
      const bob = await loginOn(app.url, 'bob');
      const cookies = place === 'first' ? [sid(alice), sid(bob)] : [sid(bob), sid(alice)];
      const { http, socket, socketOf } = await whoIs(cookies);
      expect(http).toBe(401);
      expect(socket).toBeNull();
      const refused = nextException(socketOf);
      socketOf.emit('secret', {});
      expect(await refused).toMatchObject({ message: 'Login required' });
      // Neither session was touched: each still works with its own cookie alone.
      expect(await whoIs([sid(alice)])).toMatchObject({ http: 'alice', socket: 'alice' });
      expect(await whoIs([sid(bob)])).toMatchObject({ http: 'bob', socket: 'bob' });
    },
  );

  it('the socket picked that way ends when its session is revoked', async () => {
    await loginOn(app.url, 'carol');
    const carol = sid(await loginOn(app.url, 'carol'));
    const { socket, socketOf } = await whoIs([GARBAGE, await goneCookie(), carol]);
    expect(socket).toBe('carol');
    const ended = ending(socketOf);
    expect(await app.sessions.revokeAll('acme', 'carol')).toBe(2);
    expect((await within(EVENT_WAIT_MS, ended, 'the sign-out')).ended).toEqual({
      reason: 'revoked',
    });
  });

  it('a Redis failure while telling two cookies apart refuses the handshake, as HTTP answers 503', async () => {
    const gate = await TcpGate.start(Number(new URL(process.env.TEST_REDIS_URL!).port));
    const gated = await startWsApp({ appName: APP, redis: gate.url });
    try {
      const alice = sid(await loginOn(gated.url, 'alice'));
      const cookie = [await goneCookie(), alice].join('; ');
      gate.close();
      const me = await request(gated.url).get('/me').set('Host', 'acme.test').set('Cookie', cookie);
      expect(me.status).toBe(503);
      const refusal = await connectSocket(gated.url, { cookie }).then(
        () => undefined,
        (error: Error & { data?: unknown }) => error,
      );
      expect(refusal?.message).toBe('Session store unavailable');
      expect(refusal?.data).toEqual({ status: 503, code: 'SESSION_STORE_UNAVAILABLE' });
    } finally {
      await gated.close();
      await gate.stop();
    }
  });
});

/**
 * Instance 1 runs here, instance 2 in a process of its own, on one Redis; on the same platform
 * or on different ones (an Express and a Fastify instance share sessions and their events).
 */
describe.each([
  ['express', 'express'],
  ['fastify', 'express'],
  ['express', 'fastify'],
] as const)(
  'sockets on %s end when their session ends on another app instance, on %s',
  (localPlatform, remotePlatform) => {
    const APP = `ws-two-instances-${localPlatform}-${remotePlatform}`;
    let local: WsApp;
    let remote: AppProcess;

    beforeAll(async () => {
      local = await startWsApp({ appName: APP, platform: localPlatform });
      remote = await startAppProcess({
        redis: process.env.TEST_REDIS_URL!,
        appName: APP,
        script: 'ws-app-process.mjs',
        platform: remotePlatform,
      });
    });
    afterAll(async () => {
      await local?.close();
      await remote?.stop();
    });

    /** A browser logged in on the local instance, with a socket there. */
    async function withSocket(user: string, host = 'acme.test', path = '/login') {
      const browser = await loginOn(local.url, user, host, path);
      const socket = await open(local.url, { host, cookie: browser.cookieHeader });
      expect(await ask(socket, 'whoami')).toMatchObject({ userId: user });
      return { browser, socket, ended: ending(socket) };
    }

    it('revokeAll on instance 2 disconnects the socket on instance 1, after telling it why', async () => {
      const alice = await withSocket('alice');
      const res = await new Visitor(remote.url, 'acme.test').post('/revoke-all', { user: 'alice' });
      expect(res.body).toEqual({ revoked: 1 });
      const { ended, disconnect } = await within(EVENT_WAIT_MS, alice.ended, 'the sign-out');
      expect(ended).toEqual({ reason: 'revoked' });
      // A server-side disconnect: socket.io-client does not reconnect on its own.
      expect(disconnect).toBe('io server disconnect');
    });

    it('a logout on instance 2 disconnects the socket on instance 1 with reason "logout"', async () => {
      const alice = await withSocket('alice');
      expect((await alice.browser.on(remote.url).post('/logout')).status).toBe(201);
      expect((await within(EVENT_WAIT_MS, alice.ended, 'the sign-out')).ended).toEqual({
        reason: 'logout',
      });
    });

    it("passport's logout (identity removed, then a new session) on instance 2 ends the socket too", async () => {
      const alice = await withSocket('alice', 'acme.test', '/passport-login');
      expect((await alice.browser.on(remote.url).post('/passport-logout')).status).toBe(201);
      expect((await within(EVENT_WAIT_MS, alice.ended, 'the sign-out')).ended).toEqual({
        reason: 'logout',
      });
    });

    it("revokeOthers on instance 2 ends the other devices' sockets and keeps the caller's", async () => {
      const laptop = await withSocket('bob');
      const phone = await withSocket('bob');
      const carol = await withSocket('carol');
      const res = await laptop.browser.on(remote.url).post('/revoke-others');
      expect(res.body).toEqual({ revoked: 1 });
      expect((await within(EVENT_WAIT_MS, phone.ended, 'the sign-out')).ended).toEqual({
        reason: 'revoked',
      });
      // The caller's own socket, and another user's, stay connected and logged in.
      await sleep(500);
      expect(await ask(laptop.socket, 'secret')).toEqual({ userId: 'bob' });
      expect(await ask(carol.socket, 'secret')).toEqual({ userId: 'carol' });
    });

    it('onRevoked on instance 1 hears a revocation made on instance 2, marked remote, with the handles', async () => {
      const heard: SessionRevokedEvent[] = [];
      const stop = local.sessions.onRevoked((event) => void heard.push(event));
      try {
        const dave = await withSocket('dave');
        const { sessionHandle } = await ask<{ sessionHandle: string }>(dave.socket, 'whoami');
        await new Visitor(remote.url, 'acme.test').post('/revoke-all', { user: 'dave' });
        await within(EVENT_WAIT_MS, dave.ended, 'the sign-out');
        await within(
          EVENT_WAIT_MS,
          (async () => {
            while (heard.length === 0) await sleep(20);
          })(),
          'the remote onRevoked event',
        );
        expect(heard).toEqual([
          {
            tenant: 'acme',
            userId: 'dave',
            reason: 'user',
            revoked: 1,
            sessions: [sessionHandle],
            at: expect.any(Date),
            remote: true,
          },
        ]);
      } finally {
        stop();
      }
    });

    it('a local revocation reaches local listeners once, not marked remote', async () => {
      const heard: SessionRevokedEvent[] = [];
      const stop = local.sessions.onRevoked((event) => void heard.push(event));
      try {
        const erin = await withSocket('erin');
        expect(await local.sessions.revokeAll('acme', 'erin')).toBe(1);
        expect((await within(EVENT_WAIT_MS, erin.ended, 'the sign-out')).ended).toEqual({
          reason: 'revoked',
        });
        await sleep(300); // an echo of its own message through Redis would arrive by now
        expect(heard).toHaveLength(1);
        expect(heard[0]).toMatchObject({ userId: 'erin', reason: 'user', revoked: 1 });
        expect(heard[0].remote).toBeUndefined();
      } finally {
        stop();
      }
    });

    it('a revocation landing between the handshake and the connection still ends the socket', async () => {
      const revokeMeanwhile = { user: '' };
      const racing = await startWsApp({
        appName: APP,
        platform: localPlatform,
        // After the adapter read the (still valid) session, before the socket connects: the
        // revocation happens on instance 2 and its event reaches this instance.
        beforeConnect: async () => {
          if (!revokeMeanwhile.user) return;
          await new Visitor(remote.url, 'acme.test').post('/revoke-all', revokeMeanwhile);
          await sleep(300);
        },
      });
      try {
        const grace = await loginOn(racing.url, 'grace');
        revokeMeanwhile.user = 'grace';
        const socket = await open(racing.url, { cookie: grace.cookieHeader });
        const { ended } = await within(EVENT_WAIT_MS, ending(socket), 'the sign-out');
        expect(ended).toEqual({ reason: 'revoked' });
      } finally {
        await racing.close();
      }
    });

    it('sockets opened while their user is revoked never stay logged in (20 races)', async () => {
      for (let round = 0; round < 20; round++) {
        const user = `racer-${round}`;
        const browser = await loginOn(local.url, user);
        const [socket] = await Promise.all([
          open(local.url, { cookie: browser.cookieHeader }),
          sleep(round % 5).then(() =>
            new Visitor(remote.url, 'acme.test').post('/revoke-all', { user }),
          ),
        ]);
        const socketEnded = ending(socket);
        // Either the handshake read the session after it was gone (an anonymous socket), or the
        // socket is told and disconnected, whenever it connected.
        const first = await within(
          EVENT_WAIT_MS,
          Promise.race([
            socketEnded,
            ask<{ userId: string | null }>(socket, 'whoami').catch(() => new Promise(() => {})),
          ]),
          `an answer to ${user}'s socket`,
        );
        if ((first as { userId?: string | null }).userId === null) continue;
        expect((await within(EVENT_WAIT_MS, socketEnded, `the sign-out of ${user}`)).ended).toEqual(
          {
            reason: 'revoked',
          },
        );
      }
    });

    it("a tenant's off-boarding on instance 2 ends every socket of that tenant, no other tenant's", async () => {
      const acme = await withSocket('frank', 'acme.test');
      const globex = await withSocket('frank', 'globex.test');
      const res = await new Visitor(remote.url, 'acme.test').post('/revoke-tenant');
      expect(res.body.revoked).toBeGreaterThanOrEqual(1);
      expect((await within(EVENT_WAIT_MS, acme.ended, 'the sign-out')).ended).toEqual({
        reason: 'revoked',
      });
      await sleep(500);
      expect(await ask(globex.socket, 'secret')).toEqual({ userId: 'frank' });
    });
  },
);

describe('sockets end when their session expires, and never keep it alive', () => {
  const APP = 'ws-expiry';
  const IDLE_TTL_S = 3;
  let server: RedisServer;
  let monitor: CommandMonitor;
  let app: WsApp;

  beforeAll(async () => {
    // A server of its own: MONITOR then sees this suite's commands only.
    server = await startRedisServer();
    monitor = await CommandMonitor.open(server.url);
    app = await startWsApp({ appName: APP, idleTtl: IDLE_TTL_S, redis: server.url });
  });
  afterAll(async () => {
    await app?.close();
    monitor?.close();
    await server?.stop();
  });

  it('sockets read their session once at the handshake and once per idle TTL, never writing it', async () => {
    const alice = await loginOn(app.url, 'alice');
    const key = `sessions:acme:${APP}:${alice.sessionId()}`;
    const onKey = () => monitor.commands().filter((command) => command.endsWith(` ${key}`));
    await monitor.quiet();
    monitor.reset();
    const sockets = await Promise.all(
      [1, 2, 3].map(() => open(app.url, { cookie: alice.cookieHeader })),
    );
    const ends = sockets.map((socket) => ending(socket));
    await monitor.quiet();
    expect(onKey().sort()).toEqual([
      ...Array(3).fill(`get ${key}`),
      ...Array(3).fill(`pttl ${key}`),
    ]);

    const endings = await within(
      IDLE_TTL_S * 1000 + EVENT_WAIT_MS,
      Promise.all(ends),
      'the expiry',
    );
    expect(endings.map((e) => e.ended)).toEqual(Array(3).fill({ reason: 'expired' }));
    await monitor.quiet();
    // One check for the session (not one per socket) when it expired; one more at most, should
    // a busy machine have run it a little early. Reads only: no GETEX, SET, EXPIRE or DEL.
    const gets = onKey().filter((command) => command.startsWith('get '));
    expect(gets.length).toBeGreaterThanOrEqual(4);
    expect(gets.length).toBeLessThanOrEqual(5);
    expect(onKey().filter((command) => !/^(get|pttl) /.test(command))).toEqual([]);
  });

  it('an idle session ends its socket with reason "expired" once its idle TTL has passed', async () => {
    const alice = await loginOn(app.url, 'alice');
    const loggedInAt = performance.now();
    const socket = await open(app.url, { cookie: alice.cookieHeader });
    const { ended, disconnect } = await within(
      IDLE_TTL_S * 1000 + EVENT_WAIT_MS,
      ending(socket),
      'the expiry',
    );
    const endedAfter = performance.now() - loggedInAt;
    expect(ended).toEqual({ reason: 'expired' });
    expect(disconnect).toBe('io server disconnect');
    // Not before the session could have expired (a socket talking the whole time changes nothing).
    expect(endedAfter).toBeGreaterThanOrEqual(IDLE_TTL_S * 1000 - 100);
    expect((await alice.get('/me')).status).toBe(401);
  });

  it('HTTP activity extends the session, and its socket follows the new expiry', async () => {
    const alice = await loginOn(app.url, 'alice');
    const socket = await open(app.url, { cookie: alice.cookieHeader });
    const socketEnded = ending(socket);
    let endedAt: number | undefined;
    void socketEnded.then(() => (endedAt = performance.now()));
    await sleep(1500);
    expect((await alice.get('/me')).status).toBe(200);
    const extendedAt = performance.now();
    const { ended } = await within(IDLE_TTL_S * 1000 + EVENT_WAIT_MS, socketEnded, 'the expiry');
    expect(ended).toEqual({ reason: 'expired' });
    // It lived the whole idle TTL after the last HTTP request, not just after the handshake.
    expect(endedAt! - extendedAt).toBeGreaterThanOrEqual(IDLE_TTL_S * 1000 - 100);
  });
});

describe('a global SessionAuthGuard in gateways', () => {
  let app: WsApp;

  beforeAll(async () => {
    app = await startWsApp({ appName: 'ws-global-guard', globalGuard: true });
  });
  afterAll(() => app?.close());

  it('answers an anonymous socket with a WsException "Login required", not "Internal server error"', async () => {
    const socket = await open(app.url);
    expect(await ask(socket, 'whoami')).toMatchObject({ userId: null }); // @Public()
    const refused = nextException(socket);
    socket.emit('guarded-globally', {});
    const exception = await refused;
    expect(exception).toMatchObject({ status: 'error', message: 'Login required' });
    expect(exception.message).not.toBe('Internal server error');
  });

  it('lets a logged-in socket through', async () => {
    const alice = await loginOn(app.url, 'alice');
    const socket = await open(app.url, { cookie: alice.cookieHeader });
    expect(await ask(socket, 'guarded-globally')).toEqual({ userId: 'alice' });
  });
});

describe('when the event subscription or publishing fails', () => {
  const APP = 'ws-bus-faults';
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(process.env.TEST_REDIS_URL!);
  });
  afterAll(() => redis?.disconnect());

  const subscribers = async () =>
    ((await redis.call('PUBSUB', 'NUMSUB', `tenant-session:${APP}:events`)) as [string, number])[1];
  async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
    const deadline = performance.now() + EVENT_WAIT_MS;
    while (!(await probe())) {
      if (performance.now() > deadline) throw new Error(`${what}: not within ${EVENT_WAIT_MS} ms`);
      await sleep(50);
    }
  }

  it('a subscriber cut off from Redis subscribes again, and ends sockets whose sessions ended meanwhile', async () => {
    const port = Number(new URL(process.env.TEST_REDIS_URL!).port);
    const gate = await TcpGate.start(port);
    const local = await startWsApp({ appName: APP, redis: gate.url });
    const remote = await startAppProcess({
      redis: process.env.TEST_REDIS_URL!,
      appName: APP,
      script: 'ws-app-process.mjs',
    });
    try {
      await until('both instances subscribed', async () => (await subscribers()) === 2);
      const alice = await loginOn(local.url, 'alice');
      const aliceSocket = await open(local.url, { cookie: alice.cookieHeader });
      const aliceEnded = ending(aliceSocket);

      gate.close(); // instance 1 loses Redis: its subscriber too
      await until('the subscriber gone', async () => (await subscribers()) === 1);
      await new Visitor(remote.url, 'acme.test').post('/revoke-all', { user: 'alice' });
      await sleep(500);
      expect(aliceSocket.connected).toBe(true); // the event went past; nobody here heard it

      gate.open();
      // Back, it reads its sockets' sessions again: alice's is gone, and nobody here heard why.
      const { ended } = await within(EVENT_WAIT_MS, aliceEnded, 'the sign-out after the outage');
      expect(ended).toEqual({ reason: 'gone' });
      await until('resubscribed', async () => (await subscribers()) === 2);

      // And events arrive again as they happen.
      const bob = await loginOn(local.url, 'bob');
      const bobSocket = await open(local.url, { cookie: bob.cookieHeader });
      const bobEnded = ending(bobSocket);
      await new Visitor(remote.url, 'acme.test').post('/revoke-all', { user: 'bob' });
      expect((await within(EVENT_WAIT_MS, bobEnded, 'the sign-out')).ended).toEqual({
        reason: 'revoked',
      });
    } finally {
      await local.close();
      await remote.stop();
      await gate.stop();
    }
  });

  it('a session lost with the Redis data (Redis restarted empty) ends its socket with reason "gone"', async () => {
    const server = await startRedisServer();
    const app = await startWsApp({ appName: APP, redis: server.url });
    try {
      const alice = await loginOn(app.url, 'alice');
      const socket = await open(app.url, { cookie: alice.cookieHeader });
      const aliceEnded = ending(socket);
      expect(await ask(socket, 'whoami')).toMatchObject({ userId: 'alice' });

      await server.stop(); // no persistence: every session and index is gone with it
      await server.start();

      // The subscriber comes back, reads the sessions its sockets follow, and finds none: no
      // revocation or logout was announced, so the socket is not told it was revoked.
      const { ended } = await within(EVENT_WAIT_MS, aliceEnded, 'the sign-out after the restart');
      expect(ended).toEqual({ reason: 'gone' });
      expect(socket.connected).toBe(false);
    } finally {
      await app.close();
      await server.stop();
    }
  });

  it('an event Redis refused to publish is published again once it can be', async () => {
    const user = `ws-no-publish-${process.pid}`;
    await redis.call(
      'ACL',
      'SETUSER',
      user,
      'on',
      '>no-publish-pass',
      '~*',
      '&*',
      '+@all',
      '-publish',
    );
    const url = new URL(process.env.TEST_REDIS_URL!);
    url.username = user;
    url.password = 'no-publish-pass';
    const revoker = await startWsApp({ appName: APP, redis: url.toString() });
    const holder = await startWsApp({ appName: APP });
    try {
      const alice = await loginOn(holder.url, 'alice');
      const socket = await open(holder.url, { cookie: alice.cookieHeader });
      const aliceEnded = ending(socket);
      await until('both instances subscribed', async () => (await subscribers()) === 2);

      expect(await revoker.sessions.revokeAll('acme', 'alice')).toBe(1); // done; only the news is stuck
      await sleep(1500);
      expect(socket.connected).toBe(true);

      await redis.call('ACL', 'SETUSER', user, '+publish');
      const { ended } = await within(EVENT_WAIT_MS, aliceEnded, 'the delayed sign-out');
      expect(ended).toEqual({ reason: 'revoked' });
    } finally {
      await revoker.close();
      await holder.close();
      await redis.call('ACL', 'DELUSER', user);
    }
  });
});

describe('with the embedded store', () => {
  let app: WsApp;

  beforeAll(async () => {
    app = await startWsApp({ appName: 'ws-embedded', redis: undefined });
  });
  afterAll(() => app?.close());

  it('events stay in the process and still end its sockets (logout, revocation)', async () => {
    const alice = await loginOn(app.url, 'alice');
    const socket = await open(app.url, { cookie: alice.cookieHeader });
    expect(await ask(socket, 'whoami')).toMatchObject({ userId: 'alice' });
    const aliceEnded = ending(socket);
    await alice.post('/logout');
    expect((await within(EVENT_WAIT_MS, aliceEnded, 'the sign-out')).ended).toEqual({
      reason: 'logout',
    });

    const bob = await loginOn(app.url, 'bob');
    const bobSocket = await open(app.url, { cookie: bob.cookieHeader });
    const bobEnded = ending(bobSocket);
    expect(await app.sessions.revokeAll('acme', 'bob')).toBe(1);
    expect((await within(EVENT_WAIT_MS, bobEnded, 'the sign-out')).ended).toEqual({
      reason: 'revoked',
    });
  });
});

describe('on a Redis Cluster', () => {
  const APP = 'ws-cluster';
  let cluster: Awaited<ReturnType<typeof startRedisCluster>>;
  const apps: WsApp[] = [];
  const clients: Cluster[] = [];

  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);
  afterAll(async () => {
    for (const app of apps) await app.close();
    for (const client of clients) client.disconnect();
    await cluster?.stop();
  });

  const startOnCluster = async () => {
    const client = new Cluster(cluster.nodes);
    clients.push(client);
    const app = await startWsApp({ appName: APP, redis: client });
    apps.push(app);
    return app;
  };

  it('events travel by sharded pub/sub (SSUBSCRIBE/SPUBLISH) and end sockets on the other instance', async () => {
    const holder = await startOnCluster();
    const revoker = await startOnCluster();
    const channel = `tenant-session:${APP}:events`;
    const owner = await cluster.portOf(channel);
    const ask1 = new Redis({ port: owner });
    try {
      const deadline = performance.now() + EVENT_WAIT_MS;
      let shardSubscribers = 0;
      while (shardSubscribers < 2 && performance.now() < deadline) {
        const reply = (await ask1.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number];
        shardSubscribers = reply[1];
        if (shardSubscribers < 2) await sleep(50);
      }
      expect(shardSubscribers).toBe(2);
      // Not the cluster-wide kind, which every node would have to broadcast.
      for (const node of cluster.nodes) {
        const client = new Redis({ port: node.port });
        const reply = (await client.call('PUBSUB', 'NUMSUB', channel)) as [string, number];
        client.disconnect();
        expect(reply[1]).toBe(0);
      }

      const alice = await loginOn(holder.url, 'alice');
      const socket = await open(holder.url, { cookie: alice.cookieHeader });
      const aliceEnded = ending(socket);
      expect(await revoker.sessions.revokeAll('acme', 'alice')).toBe(1);
      expect((await within(EVENT_WAIT_MS, aliceEnded, 'the sign-out')).ended).toEqual({
        reason: 'revoked',
      });
    } finally {
      ask1.disconnect();
    }
  });
});
