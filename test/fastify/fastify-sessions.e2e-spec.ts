import {
  BadRequestException,
  Controller,
  Get,
  Injectable,
  Module,
  Post,
  Req,
  UseInterceptors,
  type CallHandler,
  type ExecutionContext,
  type MiddlewareConsumer,
  type NestInterceptor,
  type NestMiddleware,
  type NestModule,
} from '@nestjs/common';
import type { Request } from 'express';
import type { ServerResponse } from 'node:http';
import { map, type Observable } from 'rxjs';
import { useOwnRedisServer } from '../support/own-redis.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import type { TestPlatform } from '../support/testing-app.js';
import { Visitor } from '../support/visitor.js';

const OPERATION_TIMEOUT_MS = 500;
const UNAVAILABLE = { statusCode: 503, code: 'SESSION_STORE_UNAVAILABLE' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type WithSession = { session?: { user?: string; visits?: number } };

/** Nest middleware of the app's own, after the module's: which user it sees. */
@Injectable()
class ProbeMiddleware implements NestMiddleware {
  use(req: WithSession, res: ServerResponse, next: () => void) {
    res.setHeader('x-middleware-user', req.session ? (req.session.user ?? 'anonymous') : 'none');
    next();
  }
}

@Module({})
class ProbeModule implements NestModule {
  configure(consumer: MiddlewareConsumer) {
    consumer.apply(ProbeMiddleware).forRoutes('probe/*path');
  }
}

/** An interceptor: which user the request it gets has. */
@Injectable()
class ProbeInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const user = context.switchToHttp().getRequest<WithSession>().session?.user ?? null;
    return next.handle().pipe(map((body: object) => ({ ...body, interceptorUser: user })));
  }
}

@Controller('probe')
class ProbeController {
  @Get('seen')
  @UseInterceptors(ProbeInterceptor)
  seen(@Req() req: Request) {
    return { controllerUser: req.session.user ?? null };
  }

  /** Changes the session, then fails: the answer must hand out no session. */
  @Post('fail')
  fail(@Req() req: Request) {
    req.session.visits = 99;
    throw new BadRequestException('no');
  }
}

const start = (redisUrl: string, platform: TestPlatform) =>
  createTestApp(
    { appName: 'shop', redis: redisUrl, operationTimeoutMs: OPERATION_TIMEOUT_MS },
    { platform, controllers: [ProbeController], modules: [ProbeModule] },
  );

const setCookies = (res: { headers: Record<string, unknown> }): string[] =>
  ([] as string[]).concat((res.headers['set-cookie'] as string[] | undefined) ?? []);

describe('Fastify: TenantSessionModule.forRoot in an app made with FastifyAdapter', () => {
  const own = useOwnRedisServer();
  let t: TestApp;

  beforeAll(async () => {
    t = await start(own.server.url, 'fastify');
  });
  afterAll(() => t?.close());

  const loginAs = async (user: string, host = 'acme.test') => {
    const visitor = new Visitor(t.http, host);
    const res = await visitor.post('/login', { user });
    expect(res.status).toBe(201);
    return visitor;
  };

  it('logs in, reads, writes and logs out', async () => {
    const alice = new Visitor(t.http, 'acme.test');
    const login = await alice.post('/login', { user: 'alice' });
    expect(login.status).toBe(201);
    expect(setCookies(login)).toEqual([expect.stringMatching(/^sid=s%3A.+; Path=\/; .*HttpOnly/)]);
    expect(login.headers['cache-control']).toBe('no-store');

    expect((await alice.get('/me')).body).toEqual({ user: 'alice', tenant: 'acme', count: 0 });
    expect((await alice.post('/increment')).body).toEqual({ count: 1 });
    expect((await alice.post('/increment')).body).toEqual({ count: 2 });
    expect((await alice.get('/me')).body).toMatchObject({ user: 'alice', count: 2 });
    expect(await own.redis.exists(`sessions:acme:shop:${alice.sessionId()}`)).toBe(1);

    const sid = alice.sessionId();
    const logout = await alice.post('/logout');
    expect(logout.status).toBe(201);
    expect(setCookies(logout)).toEqual([
      expect.stringMatching(/^sid=; .*Expires=Thu, 01 Jan 1970/),
    ]);
    expect(await own.redis.exists(`sessions:acme:shop:${sid}`)).toBe(0);
    expect((await alice.get('/me')).status).toBe(401);
  });

  it('the same session is seen in Nest middleware, interceptors and controllers', async () => {
    const alice = await loginAs('alice');

    const res = await alice.get('/probe/seen');

    expect(res.status).toBe(200);
    expect(res.headers['x-middleware-user']).toBe('alice');
    expect(res.body).toEqual({ controllerUser: 'alice', interceptorUser: 'alice' });
    const anonymous = await new Visitor(t.http, 'acme.test').get('/probe/seen');
    expect(anonymous.headers['x-middleware-user']).toBe('anonymous');
    expect(anonymous.body).toEqual({ controllerUser: null, interceptorUser: null });
  });

  it('a cookie from acme is no session on globex, and an unknown host is no tenant', async () => {
    const alice = await loginAs('alice');

    expect(
      (await new Visitor(t.http, 'globex.test', 'jest-visitor', alice.cookies).get('/me')).status,
    ).toBe(401);
    expect((await alice.get('/me')).body).toMatchObject({ tenant: 'acme' });
    expect((await new Visitor(t.http, 'unknown.test').get('/peek')).status).toBe(404);
  });

  it('resolves tenants by a header (byHeader) as on Express', async () => {
    const byHeader = await createTestApp(
      { appName: 'by-header', redis: own.server.url, tenant: { byHeader: 'x-tenant-id' } },
      { platform: 'fastify' },
    );
    try {
      const send = (tenant: string, visitor: Visitor, path: string, body?: object) =>
        visitor.request((agent) =>
          (body ? agent.post(path).send(body) : agent.get(path)).set('X-Tenant-Id', tenant),
        );
      const alice = new Visitor(byHeader.http, 'app.test');
      expect((await send('acme', alice, '/login', { user: 'alice' })).status).toBe(201);

      expect((await send('acme', alice, '/me')).body).toMatchObject({ tenant: 'acme' });
      expect((await send('globex', alice, '/me')).status).toBe(401);
      expect((await new Visitor(byHeader.http, 'app.test').get('/peek')).status).toBe(404);
    } finally {
      await byHeader.close();
    }
  });

  it('revokeAll: every session of the user is refused on its next request', async () => {
    const phone = await loginAs('bob');
    const laptop = await loginAs('bob');

    expect(await t.sessions.revokeAll('acme', 'bob')).toBe(2);

    expect((await phone.get('/me')).status).toBe(401);
    expect((await laptop.get('/me')).status).toBe(401);
  });

  it('an error answer carries no Set-Cookie, a success does', async () => {
    const visitor = new Visitor(t.http, 'acme.test');

    const failed = await visitor.post('/probe/fail');
    expect(failed.status).toBe(400);
    expect(setCookies(failed)).toEqual([]);

    const visited = await visitor.post('/visit');
    expect(visited.status).toBe(201);
    expect(setCookies(visited)).toHaveLength(1);
  });

  it('refuses a cross-site form post (CSRF) and takes a same-origin one, port included', async () => {
    const alice = await loginAs('alice');
    const post = (origin: string, host = 'acme.test') =>
      new Visitor(t.http, host, 'jest-visitor', alice.cookies).request((agent) =>
        agent.post('/increment').set('Origin', origin),
      );

    expect((await post('https://evil.example')).status).toBe(403);
    expect((await post('http://acme.test')).status).toBe(201);
    expect((await post('http://acme.test:8080', 'acme.test:8080')).status).toBe(201);
    expect((await post('http://acme.test:9090', 'acme.test:8080')).status).toBe(403);
  });

  describe('Redis frozen', () => {
    afterEach(() => own.server.resume());

    it('a login and a logged-in read answer 503 within 2 operationTimeoutMs, without a cookie', async () => {
      const alice = await loginAs('alice');
      own.server.pause();

      const began = performance.now();
      const login = await new Visitor(t.http, 'acme.test').post('/login', { user: 'bob' });
      const read = await alice.get('/me');

      expect(performance.now() - began).toBeLessThan(4 * OPERATION_TIMEOUT_MS);
      for (const res of [login, read]) {
        expect(res.status).toBe(503);
        expect(res.body).toMatchObject(UNAVAILABLE);
        expect(setCookies(res)).toEqual([]);
      }
    });

    it('a write whose save meets the frozen Redis answers 503 instead of the 201', async () => {
      const alice = await loginAs('alice');

      const writing = alice.post('/increment?delayMs=300');
      await sleep(100);
      own.server.pause();
      const res = await writing;

      expect(res.status).toBe(503);
      expect(res.body).toMatchObject(UNAVAILABLE);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(setCookies(res)).toEqual([]);
      own.server.resume();
      // Commands sent before the deadline may still land once Redis answers (see store-failures).
      expect((await alice.get('/me')).status).toBe(200);
    });
  });
});

describe('Express and Fastify instances share sessions on one Redis', () => {
  const own = useOwnRedisServer();
  const apps = {} as Record<TestPlatform, TestApp>;

  beforeAll(async () => {
    apps.express = await start(own.server.url, 'express');
    apps.fastify = await start(own.server.url, 'fastify');
  });
  afterAll(async () => {
    await apps.express?.close();
    await apps.fastify?.close();
  });

  it.each([
    ['express', 'fastify'],
    ['fastify', 'express'],
  ] as const)('logged in on %s: read and written on %s, and back', async (first, second) => {
    const alice = new Visitor(apps[first].http, 'acme.test');
    expect((await alice.post('/login', { user: 'alice' })).status).toBe(201);
    const there = alice.on(apps[second].http);

    expect((await there.get('/me')).body).toEqual({ user: 'alice', tenant: 'acme', count: 0 });
    expect((await there.post('/increment')).body).toEqual({ count: 1 });
    expect((await alice.get('/me')).body).toMatchObject({ user: 'alice', count: 1 });
    expect((await alice.post('/increment')).body).toEqual({ count: 2 });
    expect((await there.get('/me')).body).toMatchObject({ count: 2 });
  });

  it.each([
    ['express', 'fastify'],
    ['fastify', 'express'],
  ] as const)('revoked on %s: refused on %s', async (revoking, serving) => {
    const carol = new Visitor(apps[serving].http, 'acme.test');
    expect((await carol.post('/login', { user: 'carol' })).status).toBe(201);
    expect((await carol.get('/me')).status).toBe(200);

    expect(await apps[revoking].sessions.revokeAll('acme', 'carol')).toBe(1);

    expect((await carol.get('/me')).status).toBe(401);
    expect((await carol.on(apps[revoking].http).get('/me')).status).toBe(401);
  });
});
