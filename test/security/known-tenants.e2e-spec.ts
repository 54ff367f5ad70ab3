import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { createTestApp, type TestApp } from '../support/test-app.js';

/** "Tenant existence": random subdomains build nothing and ask no settings lookup. */
describe('knownTenants', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const visit = (host: string) => request(t!.http).post('/visit').set('Host', host);

  it('a flood of random subdomains builds no store and calls no settings lookup', async () => {
    const settingsAskedFor: string[] = [];
    t = await createTestApp({
      appName: 'known-list',
      tenant: { bySubdomain: 'example.test' },
      knownTenants: ['acme'],
      tenantSettings: (tenant) => {
        settingsAskedFor.push(tenant);
        return undefined;
      },
    });
    expect((await visit('acme.example.test')).status).toBe(201);

    const heapBefore = process.memoryUsage().heapUsed;
    for (let i = 0; i < 2500; i++) {
      const res = await visit(`${randomBytes(6).toString('hex')}.example.test`);
      expect(res.status).toBe(404);
    }

    expect(t.registry.cachedTenants).toBe(1);
    expect(settingsAskedFor).toEqual(['acme']);
    // Reported, not asserted: the heap is garbage-collected at its own pace.
    if (process.env.TEST_REPORT) {
      const grownMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6;
      console.log(`2,500 unknown subdomains: heap ${grownMb.toFixed(1)} MB, stores built 1`);
    }
  });

  it('asks a lookup once per unknown id, and serves a tenant it knows', async () => {
    const asked: string[] = [];
    t = await createTestApp({
      appName: 'known-lookup',
      tenant: { byHeader: 'x-tenant' },
      knownTenants: async (tenant) => {
        asked.push(tenant);
        return tenant === 'globex';
      },
    });
    const as = (tenant: string) =>
      request(t!.http).post('/visit').set('Host', 'api.test').set('x-tenant', tenant);

    expect((await as('ghost')).status).toBe(404);
    expect((await as('ghost')).status).toBe(404);
    expect((await as('GLOBEX')).status).toBe(201);
    expect((await as('globex')).status).toBe(201);
    expect(asked).toEqual(['ghost', 'globex']);
    expect(t.registry.cachedTenants).toBe(1);
  });

  it('refuses a list with an id that cannot be a tenant, at start-up', async () => {
    await expect(
      createTestApp({ appName: 'known-bad', knownTenants: ['acme', 'not valid'] }),
    ).rejects.toThrow(/knownTenants lists an invalid tenant id "not valid"/);
  });
});
