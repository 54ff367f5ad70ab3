import { Cluster } from 'ioredis';
import { startRedisCluster } from '../support/redis-cluster.mjs';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('on a real Redis Cluster (three masters)', () => {
  let cluster: Awaited<ReturnType<typeof startRedisCluster>>;
  let client: Cluster;
  let t: TestApp;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    client = new Cluster(cluster.nodes);
    t = await createTestApp({ appName: 'cluster', redis: client });
  }, 30_000);
  afterAll(async () => {
    await t?.close();
    await client?.quit();
    await cluster?.stop();
  });

  it('spreads one user’s sessions over several slots and nodes', async () => {
    const browsers = [];
    for (let i = 0; i < 12; i++) {
      const browser = new Visitor(t.http, 'acme.test', `device-${i}`);
      expect((await browser.post('/login', { user: 'alice' })).status).toBe(201);
      browsers.push(browser);
    }
    const slots = new Set(
      await Promise.all(
        browsers.map((b) => client.cluster('KEYSLOT', `sessions:acme:cluster:${b.sessionId()}`)),
      ),
    );
    expect(slots.size).toBeGreaterThan(1);

    expect((await browsers[0].get('/me')).status).toBe(200);
    expect((await browsers[0].post('/increment')).body).toEqual({ count: 1 });
    expect((await t.sessions.list('acme', 'alice')).sessions).toHaveLength(12);

    expect((await browsers[0].post('/sessions/revoke-others')).body).toEqual({ revoked: 11 });
    expect((await browsers[1].get('/me')).status).toBe(401);
    expect((await browsers[0].get('/me')).status).toBe(200);

    const inFlight = browsers[0].post('/increment?delayMs=300');
    await sleep(100);
    expect(await t.sessions.revokeAll('acme', 'alice')).toBe(1);
    await inFlight;
    expect((await browsers[0].get('/me')).status).toBe(401);
    expect(await client.exists(`sessions:acme:cluster:${browsers[0].sessionId()}`)).toBe(0);
  });

  it('a logout and a login again end the old session: its key and its entry (in another slot) both go', async () => {
    const phone = new Visitor(t.http, 'acme.test', 'phone');
    const laptop = new Visitor(t.http, 'acme.test', 'laptop');
    expect((await phone.post('/login', { user: 'bob' })).status).toBe(201);
    expect((await laptop.post('/login', { user: 'bob' })).status).toBe(201);
    const [phoneSid, laptopSid] = [phone.sessionId()!, laptop.sessionId()!];

    expect((await phone.post('/logout')).status).toBe(201);
    expect((await laptop.post('/login', { user: 'bob' })).status).toBe(201);

    expect((await phone.get('/me')).status).toBe(401);
    expect((await laptop.get('/me')).status).toBe(200);
    for (const sid of [phoneSid, laptopSid]) {
      expect(await client.exists(`sessions:acme:cluster:${sid}`)).toBe(0);
      expect(await client.zscore('sessions-index:acme:cluster:bob', sid)).toBeNull();
    }
    expect((await t.sessions.list('acme', 'bob')).sessions).toHaveLength(1);
    await t.sessions.revokeAll('acme', 'bob');
  });

  it('a session key expires at its absolute deadline itself, read (GETEX) or written', async () => {
    const visitor = new Visitor(t.http, 'acme.test', 'short');
    expect((await visitor.post('/login', { user: 'dora', absoluteLifetime: 3 })).status).toBe(201);
    const sid = visitor.sessionId()!;
    const sessionKey = `sessions:acme:cluster:${sid}`;
    const deadline = parseInt(sid.split('~')[1], 36) * 1000;
    const expiresAt = () => client.call('PEXPIRETIME', sessionKey);

    expect(await expiresAt()).toBe(deadline);
    expect((await visitor.get('/me')).status).toBe(200);
    expect(await expiresAt()).toBe(deadline);
    expect((await visitor.post('/increment')).status).toBe(201);
    expect(await expiresAt()).toBe(deadline);
    await t.sessions.revokeAll('acme', 'dora');
  });

  it('off-boards a tenant on every master', async () => {
    for (let i = 0; i < 6; i++)
      await new Visitor(t.http, 'globex.test').post('/login', { user: `u${i}` });
    await new Visitor(t.http, 'acme.test').post('/login', { user: 'alice' });

    expect(await t.sessions.revokeTenant('globex')).toBe(12);

    expect((await t.sessions.list('acme', 'alice')).sessions).toHaveLength(1);
  });
});
