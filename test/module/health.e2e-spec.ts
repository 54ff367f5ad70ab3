import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { InvalidTenantSessionOptionsError } from 'nestjs-tenant-session';
import { Deployments } from '../../lib/store/deployments.js';
import request from 'supertest';
import { TenantSessionHealthIndicator } from 'nestjs-tenant-session/health';
import { createHealthApp, type HealthApp } from '../support/health-app.js';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster.mjs';
import { startRedisSentinel, type RedisSentinel } from '../support/redis-sentinel.mjs';
import { startRedisServer, type RedisServer } from '../support/redis-server.mjs';
import { PLATFORMS } from '../support/testing-app.js';

const run = promisify(execFile);
/** The module's operationTimeoutMs in these apps: the indicator's default timeout. */
const TIMEOUT_MS = 400;
/** What a 503 may take beyond the timeout on a loaded 2-core machine. */
const SLACK_MS = 1500;
/** Longest wait for a restarted server to be seen again (ioredis retries every ≤ 2 s). */
const RECOVERY_MS = 15_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface HealthAnswer {
  status: number;
  body: {
    status: string;
    info?: Record<string, { status: string; message?: string }>;
    error?: Record<string, { status: string; message?: string }>;
  };
  elapsedMs: number;
  setCookie: unknown;
}

/** GET /health the way a load balancer does: by IP address, no cookie. */
async function checkHealth(h: HealthApp, timeout?: number): Promise<HealthAnswer> {
  const started = performance.now();
  const res = await request(h.http)
    .get(timeout === undefined ? '/health' : `/health?timeout=${timeout}`)
    .set('Host', '127.0.0.1:3000');
  return {
    status: res.status,
    body: res.body as HealthAnswer['body'],
    elapsedMs: performance.now() - started,
    setCookie: res.headers['set-cookie'],
  };
}

/** Polls (bounded) until the health check answers `status`. */
async function healthBecomes(h: HealthApp, status: number): Promise<HealthAnswer> {
  const deadline = performance.now() + RECOVERY_MS;
  let last = await checkHealth(h);
  while (last.status !== status && performance.now() < deadline) {
    await sleep(100);
    last = await checkHealth(h);
  }
  return last;
}

const UP = { status: 'ok', info: { sessions: { status: 'up' } } };
const down = (message: string | RegExp) => ({
  status: 'error',
  error: {
    sessions: {
      status: 'down',
      message: typeof message === 'string' ? message : expect.stringMatching(message),
    },
  },
});

const visit = (h: HealthApp) => request(h.http).post('/visit').set('Host', 'acme.test');

describe('TenantSessionHealthIndicator (@nestjs/terminus) on a route outside tenant resolution and the login guard', () => {
  describe.each(PLATFORMS)('on %s, one redis-server, the client the module creates', (platform) => {
    let server: RedisServer;
    let h: HealthApp;

    beforeAll(async () => {
      server = await startRedisServer();
      h = await createHealthApp(
        { appName: 'health', redis: server.url, operationTimeoutMs: TIMEOUT_MS },
        { platform },
      );
    });
    afterAll(async () => {
      await h?.close();
      await server?.stop();
    });

    it('is up, asked by IP address with no cookie: no 404 Unknown Tenant, no 401, no session', async () => {
      const health = await checkHealth(h);

      expect(health.status).toBe(200);
      expect(health.body).toMatchObject(UP);
      expect(health.setCookie).toBeUndefined();
      // The rest of the app still resolves tenants and still asks for a login.
      const byIp = await request(h.http).get('/whoami').set('Host', '127.0.0.1:3000');
      expect(byIp.status).toBe(404);
      expect(byIp.body).toMatchObject({ error: 'Unknown Tenant' });
      expect((await request(h.http).get('/whoami').set('Host', 'acme.test')).status).toBe(401);
      expect((await visit(h)).status).toBe(201);
    });

    it('goes down (503) when redis-server stops and up again when it restarts, the app running throughout', async () => {
      expect((await checkHealth(h)).status).toBe(200);

      await server.stop();

      const stopped = await checkHealth(h);
      expect(stopped.status).toBe(503);
      expect(stopped.body).toMatchObject(down(/Redis/));
      expect(stopped.elapsedMs).toBeLessThan(TIMEOUT_MS + SLACK_MS);
      // The indicator says what session requests meet.
      expect((await visit(h)).status).toBe(503);
      // Down stays down while the server is away (not a one-off).
      await sleep(300);
      expect((await checkHealth(h)).status).toBe(503);

      await server.start();

      const back = await healthBecomes(h, 200);
      expect(back.status).toBe(200);
      expect(back.body).toMatchObject(UP);
      expect((await visit(h)).status).toBe(201);
    });

    it('goes down within the timeout when Redis hangs (frozen server), up when it answers again', async () => {
      server.pause();
      try {
        const frozen = await checkHealth(h, 250);

        expect(frozen.status).toBe(503);
        expect(frozen.body).toMatchObject(down('Redis timed out'));
        expect(frozen.elapsedMs).toBeGreaterThanOrEqual(240);
        expect(frozen.elapsedMs).toBeLessThan(250 + SLACK_MS);
        // The module's operationTimeoutMs is the default timeout.
        const byDefault = await checkHealth(h);
        expect(byDefault.status).toBe(503);
        expect(byDefault.elapsedMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 10);
        expect(byDefault.elapsedMs).toBeLessThan(TIMEOUT_MS + SLACK_MS);
      } finally {
        server.resume();
      }

      expect((await healthBecomes(h, 200)).body).toMatchObject(UP);
    });

    it('is down while Redis runs a memory policy that can evict session indexes, as session requests are refused', async () => {
      const admin = new Redis(server.url);
      const client = h.app.get(Deployments).get().lifecycle.pubSubClient as Redis;
      /** Drops the app's connection; the backend checks the policy again once it is back. */
      const reconnect = async () => {
        const ready = new Promise((resolve) => client.once('ready', resolve));
        await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
        await ready;
      };
      try {
        await admin.config('SET', 'maxmemory', '64mb');
        await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
        await reconnect();

        const unsafe = await healthBecomes(h, 503);
        expect(unsafe.body).toMatchObject(
          down('Redis can evict session indexes (maxmemory-policy)'),
        );
        expect((await visit(h)).status).toBe(503);

        await admin.config('SET', 'maxmemory-policy', 'noeviction');
        await reconnect();
        expect((await healthBecomes(h, 200)).body).toMatchObject(UP);
        expect((await visit(h)).status).toBe(201);
      } finally {
        await admin.config('SET', 'maxmemory', '0').catch(() => undefined);
        admin.disconnect();
      }
    });

    it.each([0, -1, NaN])('refuses a timeout of %d', async (timeout) => {
      const indicator = h.app.get(TenantSessionHealthIndicator);

      await expect(indicator.pingCheck('sessions', { timeout })).rejects.toThrow(
        InvalidTenantSessionOptionsError,
      );
    });
  });

  describe('a client the app owns (offline queue on: commands wait for a reconnect)', () => {
    let server: RedisServer;
    let client: Redis;
    let h: HealthApp;

    beforeAll(async () => {
      server = await startRedisServer();
      client = new Redis(server.url);
      h = await createHealthApp({ appName: 'health', redis: client, operationTimeoutMs: 400 });
    });
    afterAll(async () => {
      await h?.close();
      client?.disconnect();
      await server?.stop();
    });

    it('is down within the timeout while Redis is stopped (the queued PING never answers), up after the restart', async () => {
      expect((await checkHealth(h)).body).toMatchObject(UP);

      await server.stop();
      const stopped = await checkHealth(h);

      expect(stopped.status).toBe(503);
      expect(stopped.body).toMatchObject(down('Redis timed out'));
      expect(stopped.elapsedMs).toBeLessThan(TIMEOUT_MS + SLACK_MS);

      await server.start();
      expect((await healthBecomes(h, 200)).body).toMatchObject(UP);
      // The app's client is the one that was pinged: it is connected again.
      expect(client.status).toBe('ready');
    });
  });

  describe('a Redis Cluster: every master is pinged', () => {
    let cluster: RedisCluster;
    let client: Cluster;
    let h: HealthApp;

    beforeAll(async () => {
      cluster = await startRedisCluster();
      client = new Cluster(cluster.nodes);
      h = await createHealthApp({ appName: 'health', redis: client, operationTimeoutMs: 400 });
    }, 30_000);
    afterAll(async () => {
      await h?.close();
      await client?.quit();
      await cluster?.stop();
    });

    it.each([0, 1, 2])(
      'is down while master %i alone hangs, up again once it answers',
      async (index) => {
        expect((await checkHealth(h)).body).toMatchObject(UP);
        const { port } = cluster.nodes[index];

        cluster.pause(port);
        let frozen: HealthAnswer;
        try {
          frozen = await checkHealth(h);
        } finally {
          cluster.resume(port);
        }

        expect(frozen.status).toBe(503);
        expect(frozen.body).toMatchObject(down('Redis timed out'));
        expect(frozen.elapsedMs).toBeLessThan(TIMEOUT_MS + SLACK_MS);
        expect((await healthBecomes(h, 200)).body).toMatchObject(UP);
      },
    );
  });

  describe('Redis through Sentinel: the master the client is connected to', () => {
    let server: RedisServer;
    let sentinel: RedisSentinel;
    let h: HealthApp;

    beforeAll(async () => {
      server = await startRedisServer();
      sentinel = await startRedisSentinel(server.port);
      h = await createHealthApp({
        appName: 'health',
        redis: { sentinels: sentinel.sentinels, name: sentinel.name },
        operationTimeoutMs: TIMEOUT_MS,
      });
    }, 30_000);
    afterAll(async () => {
      await h?.close();
      await sentinel?.stop();
      await server?.stop();
    });

    it('is up, down (503) while the master is stopped, and up after it restarts', async () => {
      expect((await checkHealth(h)).body).toMatchObject(UP);
      expect((await visit(h)).status).toBe(201);

      await server.stop();
      const stopped = await checkHealth(h);

      expect(stopped.status).toBe(503);
      expect(stopped.body).toMatchObject(down(/Redis/));
      expect(stopped.elapsedMs).toBeLessThan(TIMEOUT_MS + SLACK_MS);

      await server.start();
      expect((await healthBecomes(h, 200)).body).toMatchObject(UP);
      expect((await visit(h)).status).toBe(201);
    });
  });

  it('is up on the embedded store', async () => {
    const h = await createHealthApp({ appName: 'health', redis: undefined });
    try {
      const health = await checkHealth(h);
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject(UP);
    } finally {
      await h.close();
    }
  });

  it('fails at start-up, saying what is missing, in an app without TenantSessionModule', async () => {
    await expect(
      createHealthApp({ appName: 'health' }, { withoutSessionModule: true }),
    ).rejects.toThrow(/TenantSessionHealthIndicator found no TenantSessionModule/);
  });
});

describe('terminus stays optional', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'no-terminus-'));
    // A resolve hook that makes @nestjs/terminus impossible to find, as in an app without it.
    await writeFile(
      join(dir, 'hide-terminus.mjs'),
      `export async function resolve(specifier, context, next) {
        if (specifier === '@nestjs/terminus' || specifier.startsWith('@nestjs/terminus/')) {
          const error = new Error("Cannot find package '@nestjs/terminus'");
          error.code = 'ERR_MODULE_NOT_FOUND';
          throw error;
        }
        return next(specifier, context);
      }\n`,
    );
    await writeFile(
      join(dir, 'register.mjs'),
      `import { register } from 'node:module';\n` +
        `register(${JSON.stringify(pathToFileURL(join(dir, 'hide-terminus.mjs')).href)});\n`,
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /**
   * Imports a package entry in a fresh node, through package.json "exports", so from dist/
   * (`npm test` builds it first).
   */
  const importEntry = async (entry: string, hideTerminus: boolean) => {
    const script =
      `const m = await import(${JSON.stringify(entry)});` +
      `console.log(JSON.stringify(Object.keys(m).sort()));`;
    const args = [
      ...(hideTerminus ? ['--import', pathToFileURL(join(dir, 'register.mjs')).href] : []),
      '--input-type=module',
      '-e',
      script,
    ];
    const { stdout } = await run(process.execPath, args, {
      cwd: process.cwd(),
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as string[];
  };

  it('the main entry point loads without @nestjs/terminus; nestjs-tenant-session/health needs it', async () => {
    const main = await importEntry('nestjs-tenant-session', true);
    expect(main).toEqual(expect.arrayContaining(['TenantSessionModule', 'SessionAuthGuard']));
    expect(main).not.toContain('TenantSessionHealthIndicator');

    // The hook does hide terminus: the health entry point, which imports it, fails under it...
    await expect(importEntry('nestjs-tenant-session/health', true)).rejects.toThrow(
      /Cannot find package '@nestjs\/terminus'/,
    );
    // ...and loads without it.
    expect(await importEntry('nestjs-tenant-session/health', false)).toEqual([
      'TenantSessionHealthIndicator',
    ]);
  }, 30_000);
});
