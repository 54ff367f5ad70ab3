import { Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import request from 'supertest';
import {
  InvalidTenantSessionOptionsError,
  UnsafeEvictionPolicyError,
  type SessionRevokedEvent,
} from 'nestjs-tenant-session';
import { createHealthApp } from '../support/health-app.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.mjs';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';

const TIMEOUT_MS = 500;
/** What a 503 may take beyond the budget on a loaded 2-core machine. */
const SLACK_MS = 1500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Tenant placement: `acme` lives on the `eu` deployment, `globex` on the default one (`redis`).
 * Each tenant's sessions, indexes, revocations, events and health stay on its own deployment.
 */
describe('tenants placed on several Redis deployments', () => {
  let main: RedisServer;
  let eu: RedisServer;
  let onMain: Redis;
  let onEu: Redis;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    [main, eu] = await Promise.all([startRedisServer(), startRedisServer()]);
    onMain = new Redis(main.url);
    onEu = new Redis(eu.url);
  });
  afterAll(async () => {
    onMain.disconnect();
    onEu.disconnect();
    await Promise.all([main.stop(), eu.stop()]);
  });
  beforeEach(() => Promise.all([onMain.flushall(), onEu.flushall()]));
  afterEach(async () => {
    main.resume();
    eu.resume();
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  const start = async (options: Partial<Parameters<typeof createTestApp>[0]> = {}) => {
    const app = await createTestApp({
      appName: 'placed',
      redis: main.url,
      deployments: { eu: eu.url },
      tenantSettings: { acme: { deployment: 'eu' } },
      operationTimeoutMs: TIMEOUT_MS,
      ...options,
    });
    apps.push(app);
    return app;
  };
  const loginAs = async (app: TestApp, user: string, host: string) => {
    const visitor = new Visitor(app.http, host);
    expect((await visitor.post('/login', { user })).status).toBe(201);
    return visitor;
  };
  const keysOf = (redis: Redis) => redis.keys('*').then((keys) => keys.sort());

  it("keeps each tenant's sessions and indexes on its own deployment only", async () => {
    const app = await start();
    const acme = await loginAs(app, 'alice', 'acme.test');
    const globex = await loginAs(app, 'alice', 'globex.test');

    expect(await keysOf(onEu)).toEqual([
      'sessions-index:acme:placed:alice',
      `sessions:acme:placed:${acme.sessionId()}`,
    ]);
    expect(await keysOf(onMain)).toEqual([
      'sessions-index:globex:placed:alice',
      `sessions:globex:placed:${globex.sessionId()}`,
    ]);
    expect((await acme.get('/me')).body).toMatchObject({ user: 'alice', tenant: 'acme' });
    expect((await app.sessions.list('acme', 'alice')).total).toBe(1);
  });

  it("revokes on the tenant's deployment, and off-boards a tenant without scanning the others", async () => {
    const app = await start();
    const acme = [
      await loginAs(app, 'alice', 'acme.test'),
      await loginAs(app, 'alice', 'acme.test'),
    ];
    const globex = await loginAs(app, 'alice', 'globex.test');

    expect(await app.sessions.revokeAll('acme', 'alice')).toBe(2);
    for (const visitor of acme) expect((await visitor.get('/me')).status).toBe(401);
    expect((await globex.get('/me')).status).toBe(200);

    await loginAs(app, 'bob', 'acme.test');
    await onMain.config('RESETSTAT');
    expect(await app.sessions.revokeTenant('acme')).toBeGreaterThan(0);
    expect(await onEu.keys('sessions:acme:*')).toEqual([]);
    expect(await onMain.info('commandstats')).not.toMatch(/cmdstat_scan:/);
    expect((await globex.get('/me')).status).toBe(200);
  });

  it('a frozen deployment fails only its own tenants, fast, and they recover without a restart', async () => {
    const app = await start();
    const acme = await loginAs(app, 'alice', 'acme.test');
    const globex = await loginAs(app, 'alice', 'globex.test');

    eu.pause();
    const started = performance.now();
    const refused = await acme.get('/me');
    expect(refused.status).toBe(503);
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    expect((await globex.get('/me')).status).toBe(200);
    expect((await globex.post('/increment')).status).toBe(201);

    eu.resume();
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++, await sleep(100)) {
      status = (await acme.get('/me')).status;
    }
    expect(status).toBe(200);
  });

  it("tells the app's other instances of a revocation through the tenant's deployment, even with another deployment down", async () => {
    const first = await start();
    const second = await start();
    const heard: SessionRevokedEvent[] = [];
    second.sessions.onRevoked((event) => void heard.push(event));
    await loginAs(first, 'alice', 'acme.test');
    await loginAs(first, 'alice', 'globex.test');

    main.pause();
    expect(await first.sessions.revokeAll('acme', 'alice')).toBe(1);
    for (let i = 0; i < 50 && heard.length === 0; i++) await sleep(100);
    expect(heard).toEqual([expect.objectContaining({ tenant: 'acme', remote: true, revoked: 1 })]);

    main.resume();
    await first.sessions.revokeAll('globex', 'alice');
    for (let i = 0; i < 50 && heard.length < 2; i++) await sleep(100);
    expect(heard[1]).toMatchObject({ tenant: 'globex', remote: true, revoked: 1 });
  });

  it('answers the health check down, naming the deployment, while one is frozen', async () => {
    const health = await createHealthApp({
      appName: 'placed',
      redis: main.url,
      deployments: { eu: eu.url },
      tenantSettings: { acme: { deployment: 'eu' } },
      operationTimeoutMs: TIMEOUT_MS,
    });
    try {
      const check = () => request(health.http).get('/health').set('Host', '127.0.0.1');
      expect((await check()).status).toBe(200);
      eu.pause();
      const down = await check();
      expect(down.status).toBe(503);
      expect(down.body.error.sessions.message).toMatch(/^eu: /);
      eu.resume();
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++, await sleep(100))
        status = (await check()).status;
      expect(status).toBe(200);
    } finally {
      await health.close();
    }
  });

  it("checks every deployment's memory policy at start-up", async () => {
    const evicting = await startRedisServer([
      '--maxmemory',
      '64mb',
      '--maxmemory-policy',
      'allkeys-lru',
    ]);
    try {
      await expect(start({ deployments: { eu: evicting.url } })).rejects.toThrow(
        UnsafeEvictionPolicyError,
      );
    } finally {
      await evicting.stop();
    }
  });

  it.each([
    [{ deployments: { default: 'redis://127.0.0.1:1' } }, /"default" must be/],
    [{ deployments: { EU: 'redis://127.0.0.1:1' } }, /"EU" must be lower-case/],
    [
      { deployments: { eu: 'eu.example.com' } },
      /deployments\.eu: .*not a redis:\/\/ or rediss:\/\/ URL/,
    ],
    [
      { tenantSettings: { acme: { deployment: 'us' } } },
      /tenantSettings\[acme\]\.deployment must be one of default, eu/,
    ],
  ])('refuses %j', async (options, message) => {
    const attempt = start(options as Partial<Parameters<typeof createTestApp>[0]>);
    await expect(attempt).rejects.toThrow(InvalidTenantSessionOptionsError);
    await expect(attempt).rejects.toThrow(message);
  });

  it('answers a tenant whose settings lookup names no deployment with an error, and serves the others', async () => {
    const app = await start({
      tenantSettings: (tenant) => (tenant === 'acme' ? { deployment: 'mars' } : undefined),
    });
    expect(
      (await new Visitor(app.http, 'acme.test').post('/login', { user: 'alice' })).status,
    ).toBe(500);
    await loginAs(app, 'alice', 'globex.test');
  });
});
