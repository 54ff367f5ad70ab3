import type { LoggerService } from '@nestjs/common';
import type { Redis } from 'ioredis';
import {
  InvalidTenantSessionOptionsError,
  type LoginDetails,
  type TenantSessionModuleOptions,
} from 'nestjs-tenant-session';
import { useOwnRedisServer } from '../support/own-redis.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';
import { IPHONE_SAFARI } from '../../lib/session/user-agents.fixture.js';

const IPHONE = { browser: 'Safari', browserVersion: '17.5', os: 'iOS', type: 'mobile' };

/**
 * What a listing tells about each session's device, through the module on a real Redis: the
 * parsed device and the `loginFields` hook's fields, recorded at login; sessions stored before
 * devices were recorded; a hook that fails or hangs.
 */
describe('devices in listings (real Redis)', () => {
  const own = useOwnRedisServer();
  let redis: Redis;
  let t: TestApp | undefined;
  const warnings: string[] = [];
  const logger: LoggerService = {
    log: () => {},
    error: (message: unknown) => warnings.push(String(message)),
    warn: (message: unknown) => warnings.push(String(message)),
  };

  beforeAll(() => (redis = own.redis));
  beforeEach(() => (warnings.length = 0));
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const start = async (options: Partial<TenantSessionModuleOptions> = {}) => {
    t = await createTestApp({ redis: own.server.url, appName: 'devices', ...options }, { logger });
    return t;
  };
  const loginAs = async (user: string, agent = IPHONE_SAFARI) => {
    const visitor = new Visitor(t!.http, 'acme.test', agent);
    const res = await visitor.post('/login', { user });
    expect(res.status).toBe(201);
    return visitor;
  };

  it("lists the device parsed at login, and the loginFields hook's fields, beside the raw user agent", async () => {
    const told: LoginDetails[] = [];
    await start({
      loginFields: async (login) => {
        told.push(login);
        return { city: 'Lisbon', vpn: false };
      },
    });
    const phone = await loginAs('alice');

    const [listed] = (await phone.get('/sessions')).body;

    expect(listed).toMatchObject({
      current: true,
      ip: '127.0.0.1',
      userAgent: IPHONE_SAFARI,
      device: IPHONE,
      fields: { city: 'Lisbon', vpn: false },
    });
    // supertest's server is dual-stack: the hook sees the IPv4 client as IPv4 too.
    expect(told).toEqual([
      {
        tenant: 'acme',
        userId: 'alice',
        ip: '127.0.0.1',
        userAgent: IPHONE_SAFARI,
        device: IPHONE,
      },
    ]);
    expect(warnings).toEqual([]);
  });

  it('lists a session stored before devices were recorded with its user agent parsed', async () => {
    await start();
    const phone = await loginAs('alice');
    const key = `sessions:acme:devices:${phone.sessionId()}`;
    const stored = JSON.parse((await redis.get(key))!);
    delete stored._owner.device;
    await redis.set(key, JSON.stringify(stored), 'KEEPTTL');

    const [listed] = (await phone.get('/sessions')).body;

    expect(listed).toMatchObject({ current: true, device: IPHONE });
    expect(listed).not.toHaveProperty('fields');
  });

  it('never fails a login for a hook that throws: it goes on without fields, logged without session data', async () => {
    await start({
      loginFields: ({ ip, userId }) => {
        throw new Error(`GeoIP is down for ${userId} at ${ip}`);
      },
    });
    const phone = await loginAs('alice');

    const [listed] = (await phone.get('/sessions')).body;

    expect(listed).toMatchObject({ current: true, device: IPHONE });
    expect(listed).not.toHaveProperty('fields');
    expect(warnings).toEqual(['loginFields failed (Error); the login goes on without its fields']);
    expect(warnings.join('\n')).not.toMatch(/alice|127\.0\.0\.1|GeoIP/);
    expect(warnings.join('\n')).not.toContain(phone.sessionId()!.slice(0, 8));
  });

  it('holds a login for a hook that never answers no longer than operationTimeoutMs', async () => {
    await start({ operationTimeoutMs: 400, loginFields: () => new Promise(() => {}) });

    const began = performance.now();
    const phone = await loginAs('alice');
    const tookMs = performance.now() - began;

    expect(tookMs).toBeGreaterThanOrEqual(390);
    expect(tookMs).toBeLessThan(400 + 1500);
    expect((await phone.get('/sessions')).body[0]).not.toHaveProperty('fields');
    expect(warnings).toEqual([
      'loginFields did not answer within 400 ms; the login goes on without its fields',
    ]);
  });

  it('refuses a loginFields that is not a function at start-up', async () => {
    await expect(
      start({
        loginFields: { city: 'Lisbon' } as unknown as TenantSessionModuleOptions['loginFields'],
      }),
    ).rejects.toThrow(InvalidTenantSessionOptionsError);
  });
});
