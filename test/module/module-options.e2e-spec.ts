import {
  Controller,
  Get,
  Injectable,
  Module,
  Req,
  RequestMethod,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
  type LoggerService,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import type { Request } from 'express';
import { Redis } from 'ioredis';
import request from 'supertest';
import {
  getRequestTenant,
  Public,
  SessionAuthGuard,
  SessionLoginService,
  Tenant,
  TenantSessionModule,
  TenantSessionRegistry,
  type TenantSessionModuleOptions,
  type TenantSessionOptionsFactory,
} from 'nestjs-tenant-session';
import { TenantStore } from '../../lib/session/tenant-store.js';
import { Deployments } from '../../lib/store/deployments.js';
import { createTestApp, TEST_HOSTS, TEST_SECRET, type TestApp } from '../support/test-app.js';
import { startTestingApp } from '../support/testing-app.js';
import { Visitor } from '../support/visitor.js';

/** A guard of the application's own that reads the tenant the module resolved. */
@Injectable()
class AcmeOnlyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return getRequestTenant(context.switchToHttp().getRequest<Request>()) === 'acme';
  }
}

@Controller()
class GloballyGuardedController {
  constructor(private readonly logins: SessionLoginService) {}

  @Public()
  @Get('login')
  async login(@Req() req: Request) {
    await this.logins.login(req, 'alice');
    return { ok: true };
  }

  @Get('private')
  secret(@Tenant() tenant: string) {
    return { tenant };
  }

  @Public()
  @UseGuards(AcmeOnlyGuard)
  @Get('acme-only')
  acmeOnly() {
    return { ok: true };
  }

  @Public()
  @Get('health')
  health(@Req() req: Request) {
    return { hasSession: req.session !== undefined };
  }
}

@Injectable()
class SessionConfig {
  create(): TenantSessionModuleOptions {
    return {
      tenant: { byHost: TEST_HOSTS },
      secret: TEST_SECRET,
      appName: 'from-class',
      redis: process.env.TEST_REDIS_URL,
    };
  }
}

@Module({ providers: [SessionConfig], exports: [SessionConfig] })
class ConfigModule {}

async function bootGlobal(imports: unknown[]) {
  const moduleRef = await Test.createTestingModule({
    imports: imports as never[],
    controllers: [GloballyGuardedController],
    providers: [{ provide: APP_GUARD, useClass: SessionAuthGuard }],
  }).compile();
  return (await startTestingApp(moduleRef)).app;
}

describe('module configuration', () => {
  let redis: Redis;
  let t: TestApp | undefined;
  let app: NestExpressApplication | undefined;

  beforeAll(() => {
    redis = new Redis(process.env.TEST_REDIS_URL!);
  });
  afterAll(() => redis.quit());
  afterEach(async () => {
    await t?.close();
    await app?.close();
    t = app = undefined;
  });

  it('forRootAsync with useFactory and inject, as a global guard with @Public() routes', async () => {
    app = await bootGlobal([
      TenantSessionModule.forRootAsync({
        imports: [ConfigModule],
        inject: [SessionConfig],
        useFactory: (config: SessionConfig) => ({ ...config.create(), appName: 'from-factory' }),
        isGlobal: true,
      }),
    ]);
    const browser = new Visitor(app.getHttpServer(), 'acme.test');

    expect((await browser.get('/private')).status).toBe(401);
    expect((await browser.get('/login')).status).toBe(200);
    expect((await browser.get('/private')).body).toEqual({ tenant: 'acme' });
    expect(await redis.exists(`sessions:acme:from-factory:${browser.sessionId()}`)).toBe(1);
  });

  it("lets the application's own guards read the resolved tenant", async () => {
    app = await bootGlobal([TenantSessionModule.forRoot(new SessionConfig().create())]);
    const get = (host: string) => request(app!.getHttpServer()).get('/acme-only').set('Host', host);

    expect((await get('ACME.test')).status).toBe(200);
    expect((await get('globex.test')).status).toBe(403);
  });

  it('forRootAsync with useClass calls its createTenantSessionOptions()', async () => {
    @Injectable()
    class OptionsFactory implements TenantSessionOptionsFactory {
      createTenantSessionOptions() {
        return new SessionConfig().create();
      }
    }
    app = await bootGlobal([TenantSessionModule.forRootAsync({ useClass: OptionsFactory })]);
    const browser = new Visitor(app.getHttpServer(), 'globex.test');
    await browser.get('/login');

    expect(await redis.exists(`sessions:globex:from-class:${browser.sessionId()}`)).toBe(1);
  });

  it('leaves excluded routes without tenant resolution or session', async () => {
    app = await bootGlobal([
      TenantSessionModule.forRoot({ ...new SessionConfig().create(), exclude: ['health'] }),
    ]);

    const res = await request(app.getHttpServer()).get('/health').set('Host', 'nobody.test');

    expect(res.body).toEqual({ hasSession: false });
  });

  it('runs only on forRoutes: a route outside them resolves no tenant and loads no session', async () => {
    app = await bootGlobal([
      TenantSessionModule.forRoot({
        ...new SessionConfig().create(),
        forRoutes: ['login', { path: 'private', method: RequestMethod.GET }],
      }),
    ]);
    const browser = new Visitor(app.getHttpServer(), 'acme.test');

    expect((await browser.get('/health')).body).toEqual({ hasSession: false });
    expect(
      (await request(app.getHttpServer()).get('/private').set('Host', 'nobody.test')).status,
    ).toBe(404);
    expect((await browser.get('/login')).status).toBe(200);
    expect((await browser.get('/private')).body).toEqual({ tenant: 'acme' });
  });

  it('gives a tenant its own cookie name, idle TTL and secret', async () => {
    t = await createTestApp({
      appName: 'settings',
      tenantSettings: async (tenant) =>
        tenant === 'globex'
          ? {
              cookieName: 'globex_sid',
              idleTtl: 120,
              secret: ['globex-secret-0123456789', TEST_SECRET],
            }
          : undefined,
    });
    const onGlobex = new Visitor(t.http, 'globex.test');
    const onAcme = new Visitor(t.http, 'acme.test');
    await onGlobex.post('/login', { user: 'alice' });
    await onAcme.post('/login', { user: 'alice' });

    expect([...onGlobex.cookies.keys()]).toEqual(['globex_sid']);
    expect([...onAcme.cookies.keys()]).toEqual(['sid']);
    expect(
      await redis.pttl(`sessions:globex:settings:${onGlobex.sessionId('globex_sid')}`),
    ).toBeLessThanOrEqual(120_000);
    expect((await onGlobex.get('/me')).status).toBe(200);
  });

  it("reads a tenant's settings once, and again after forget()", async () => {
    const reads: string[] = [];
    t = await createTestApp({
      appName: 'settings-cache',
      tenantSettings: (tenant) => {
        reads.push(tenant);
        return { idleTtl: 600 };
      },
    });
    const visit = () => request(t!.http).post('/visit').set('Host', 'acme.test');

    await visit();
    await visit();
    expect(reads).toEqual(['acme']);

    t.registry.forget('acme');
    await visit();
    expect(reads).toEqual(['acme', 'acme']);
  });

  it('marks the cookie Secure on HTTPS behind a trusted proxy', async () => {
    t = await createTestApp({ appName: 'secure-cookie' }, { trustProxy: 'loopback' });
    const login = (proto: string) =>
      request(t!.http)
        .post('/login')
        .set('Host', 'acme.test')
        .set('X-Forwarded-Proto', proto)
        .send({ user: 'alice' });

    expect(String((await login('https')).headers['set-cookie'])).toMatch(/; Secure/);
    expect(String((await login('http')).headers['set-cookie'])).not.toMatch(/Secure/);
  });

  it('refuses a tenant setting with a weak secret when that tenant is first used', async () => {
    t = await createTestApp({
      appName: 'weak-secret',
      tenantSettings: () => ({ secret: 'changeme' }),
    });

    const res = await request(t.http).post('/visit').set('Host', 'acme.test');

    expect(res.status).toBe(500);
    expect(await redis.keys('sessions:acme:weak-secret:*')).toEqual([]);
  });

  it('answers an unknown tenant with the configured status', async () => {
    t = await createTestApp({ appName: 'settings', unknownTenantStatus: 421 });

    const res = await request(t.http).get('/peek').set('Host', 'nobody.test');

    expect(res.status).toBe(421);
    expect(res.body.message).toBe('Unknown tenant');
  });

  it('resolves by subdomain, ignoring the port and case', async () => {
    t = await createTestApp({ appName: 'settings', tenant: { bySubdomain: 'example.com' } });

    expect(
      (await request(t.http).get('/peek').set('Host', 'ACME.Example.com:8443')).body.tenant,
    ).toBe('acme');
    expect((await request(t.http).get('/peek').set('Host', 'a.b.example.com')).status).toBe(404);
    expect((await request(t.http).get('/peek').set('Host', 'example.com')).status).toBe(404);
  });

  it('resolves by host map case-insensitively and ignores the port', async () => {
    t = await createTestApp({ appName: 'settings', tenant: { byHost: { 'Acme.Test': 'acme' } } });

    expect((await request(t.http).get('/peek').set('Host', 'acme.TEST:3000')).body.tenant).toBe(
      'acme',
    );
  });

  it.each([
    [false, 'globex'],
    [true, 'acme'],
  ])(
    'believes X-Forwarded-Host only when the platform trusts the proxy (trust proxy: %s)',
    async (trustProxy, tenant) => {
      t = await createTestApp({ appName: 'settings' }, { trustProxy });
      const res = await request(t.http)
        .get('/peek')
        .set('Host', 'globex.test')
        .set('X-Forwarded-Host', 'acme.test');

      expect(res.body.tenant).toBe(tenant);
    },
  );

  it('resolves by header', async () => {
    t = await createTestApp({ appName: 'settings', tenant: { byHeader: 'x-tenant-id' } });

    expect((await request(t.http).get('/peek').set('x-tenant-id', 'Initech')).body.tenant).toBe(
      'initech',
    );
    expect((await request(t.http).get('/peek')).status).toBe(404);
  });

  it('treats corrupt stored data as no session, and leaves it in place', async () => {
    t = await createTestApp({ appName: 'settings' });
    const browser = new Visitor(t.http, 'acme.test');
    await browser.post('/login', { user: 'alice' });
    const key = `sessions:acme:settings:${browser.sessionId()}`;

    for (const corrupt of ['{not json', '[]', '{"cookie":1}']) {
      await redis.set(key, corrupt, 'EX', 60);
      const res = await browser.get('/me');
      expect(res.status).toBe(401);
      expect(await redis.get(key)).toBe(corrupt);
    }
  });

  it('refuses a session whose owner is not one the module writes, and deletes it', async () => {
    t = await createTestApp({ appName: 'settings' });
    const browser = new Visitor(t.http, 'acme.test');
    await browser.post('/login', { user: 'alice' });
    const key = `sessions:acme:settings:${browser.sessionId()}`;
    await redis.set(key, '{"cookie":{},"_owner":{"userId":7}}', 'EX', 60);

    expect((await browser.get('/me')).status).toBe(401);
    expect(await redis.exists(key)).toBe(0);
  });

  it('keeps at most maxCachedTenants stores built, and rebuilds on demand', async () => {
    t = await createTestApp({
      appName: 'settings',
      maxCachedTenants: 2,
      tenant: { byHeader: 'x-tenant' },
    });
    for (const tenant of ['t1', 't2', 't3', 't4']) {
      await request(t.http).post('/visit').set('x-tenant', tenant);
    }
    expect(t.registry.cachedTenants).toBe(2);

    const store = await t.registry.store('t1');
    expect(store).toBeInstanceOf(TenantStore);
    expect((await t.registry.get('t1')).keys.session('abc')).toBe('sessions:t1:settings:abc');
    expect(t.app.get(TenantSessionRegistry)).toBe(t.registry);
  });

  it('warns at start-up when it runs on the embedded in-process store', async () => {
    const warnings: string[] = [];
    const capture: LoggerService = {
      log: () => undefined,
      error: () => undefined,
      warn: (message: string) => void warnings.push(message),
    };
    const moduleRef = await Test.createTestingModule({
      imports: [
        TenantSessionModule.forRoot({ tenant: { byHost: TEST_HOSTS }, secret: TEST_SECRET }),
      ],
    })
      .setLogger(capture)
      .compile();

    expect(warnings).toEqual([
      expect.stringMatching(/No Redis configured: sessions live in this process only/),
    ]);
    await moduleRef.close();
  });

  it('closes the Redis client it created on shutdown, and never one it was given', async () => {
    const given = new Redis(process.env.TEST_REDIS_URL!);
    const withGiven = await createTestApp({ appName: 'clients', redis: given });
    const withOwn = await createTestApp({ appName: 'clients' });
    const own = withOwn.app.get(Deployments).get().lifecycle.pubSubClient as Redis;
    expect(own.status).toBe('ready');

    const ownEnded = new Promise((resolve) => own.once('end', resolve));

    await withGiven.close();
    await withOwn.close();

    await ownEnded;
    expect(given.status).toBe('ready');
    expect(await given.ping()).toBe('PONG');
    await given.quit();
  });

  it('rejects options that would mix tenants or cannot work', async () => {
    await expect(createTestApp({ appName: 'Bad App' })).rejects.toThrow(/appName/);
    await expect(createTestApp({ appName: 'ok', keyPrefix: 'sessions:{app}:' })).rejects.toThrow(
      /\{tenant\}/,
    );
    await expect(createTestApp({ appName: 'ok', idleTtl: 0 })).rejects.toThrow(/idleTtl/);
    await expect(createTestApp({ appName: 'ok', unknownTenantStatus: 500 })).rejects.toThrow(/4xx/);
    await expect(
      createTestApp({ appName: 'ok', tenant: { byHost: { 'x.test': 'not valid' } } }),
    ).rejects.toThrow(/invalid tenant id/);
  });

  it('refuses at start-up the express-session options it does not honour, and unknown keys, from forRoot and forRootAsync', async () => {
    // As an app migrating from session({ ... }) holds them: in a variable, no excess-property check.
    const expressSessionStyle = {
      name: 'connect.sid',
      resave: false,
      cookie: { httpOnly: true, maxAge: 120_000 },
    };
    await expect(createTestApp({ appName: 'ok', ...expressSessionStyle })).rejects.toThrow(
      /`name` .*`cookieName`.*; `resave` .*; `cookie\.maxAge` .*`idleTtl`/,
    );
    const typo = { appName: 'ok', idleTTL: 120 };
    await expect(createTestApp(typo)).rejects.toThrow(/did you mean `idleTtl`\?/);
    await expect(
      bootGlobal([
        TenantSessionModule.forRootAsync({
          useFactory: () => ({ ...new SessionConfig().create(), proxy: true }),
        }),
      ]),
    ).rejects.toThrow(/`proxy` .*`trust proxy`/);
  });

  it('rejects durations and cookie settings no Set-Cookie or Redis TTL could carry', async () => {
    const refused = (options: Partial<Parameters<typeof createTestApp>[0]>) =>
      expect(createTestApp({ appName: 'ok', ...options })).rejects;
    await refused({ idleTtl: 1e16 }).toThrow(/idleTtl must be at most 31557600000 \(1000 years\)/);
    await refused({ absoluteLifetime: 4e10 }).toThrow(/absoluteLifetime must be at most/);
    await refused({ cookieName: 'my sid' }).toThrow(/the name "my sid" is not a token/);
    await refused({ cookie: { domain: 'a b' } }).toThrow(/cookie\.domain "a b" is not a domain/);
    await refused({ cookie: { path: '/\u0001' } }).toThrow(/cookie\.path/);
    await refused({ cookie: { sameSite: 'bogus' as never } }).toThrow(/cookie\.sameSite/);
    await refused({ tenantSettings: { acme: { idleTtl: 1e16 } } }).toThrow(
      /tenantSettings\[acme\]\.idleTtl must be at most/,
    );
    await refused({ tenantSettings: { acme: { cookieDomain: 'a b' } } }).toThrow(
      /tenantSettings\[acme\]: .*cookie\.domain "a b"/,
    );
  });
});
