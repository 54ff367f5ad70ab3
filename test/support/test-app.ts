import {
  Body,
  Controller,
  Delete,
  Get,
  Param,
  Post,
  Query,
  Req,
  UseGuards,
  type LoggerService,
  type Type,
} from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { startTestingApp, type TestPlatform, type TrustProxy } from './testing-app.js';
import type { Request } from 'express';
import {
  CsrfToken,
  Session,
  SessionAuthGuard,
  SessionLoginService,
  SessionRevocationService,
  SessionUserId,
  RequireRecentLogin,
  Tenant,
  TenantSessionModule,
  TenantSessionRegistry,
  type TenantSessionModuleOptions,
} from 'nestjs-tenant-session';

declare module 'express-session' {
  interface SessionData {
    user?: string;
    count?: number;
    visits?: number;
  }
}

export const TEST_SECRET = 'test-secret-0123456789-abcdefghij';
export const TEST_HOSTS = { 'acme.test': 'acme', 'globex.test': 'globex' };
/**
 * The `operationTimeoutMs` (the sample's `REDIS_TIMEOUT_MS`) that `createTestApp` and
 * `startSample` give unless a test says otherwise: a loaded CI machine stalls past the module's
 * default second (a page of a thousand keys, a revocation of a round's logins, Chromium beside
 * the app), and a stall must not turn a check of something else into a 503. Tests about
 * timeouts and frozen Redis servers give their own budget.
 */
export const BUDGET_UNDER_LOAD_MS = 10_000;
/**
 * A recent-login age (seconds) for step-up tests (`/sensitive` asks for it; the sample's
 * `RECENT_LOGIN_MAX_AGE`): long enough that a loaded machine's stall (a new app instance started
 * in between, too) does not age a fresh login past it, short enough to wait out with
 * `untilLoginIsOld`.
 */
export const RECENT_LOGIN_MAX_AGE_S = 3;

/** Waits until a login made now is no longer recent by RECENT_LOGIN_MAX_AGE_S. */
export function untilLoginIsOld(): Promise<unknown> {
  return sleep(RECENT_LOGIN_MAX_AGE_S * 1000 + 300);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Routes that exercise the public API the way an application would. */
@Controller()
class TestController {
  constructor(
    private readonly logins: SessionLoginService,
    private readonly sessions: SessionRevocationService,
  ) {}

  @Post('login')
  async login(
    @Req() req: Request,
    @Body() body: { user: string; idleTtl?: number; absoluteLifetime?: number },
  ) {
    const { user, idleTtl, absoluteLifetime } = body;
    await this.logins.login(req, user, { data: { user }, idleTtl, absoluteLifetime });
    return { user: body.user };
  }

  /** A password reset: sign the user out everywhere, then log them in, in one request. */
  @Post('reset')
  async reset(
    @Req() req: Request,
    @Tenant() tenant: string,
    @Body() body: { user: string; began?: 'now' },
  ) {
    const revoked = await this.sessions.revokeAll(tenant, body.user);
    await this.logins.login(req, body.user, { data: { user: body.user }, began: body.began });
    return { revoked };
  }

  @Post('logout')
  async logout(@Req() req: Request) {
    await this.logins.logout(req);
    return { ok: true };
  }

  @Get('me')
  @UseGuards(SessionAuthGuard)
  me(
    @Session('user') user: string,
    @Tenant() tenant: string,
    @Session() session: { count?: number },
  ) {
    return { user, tenant, count: session.count ?? 0 };
  }

  @Post('increment')
  @UseGuards(SessionAuthGuard)
  async increment(@Req() req: Request, @Query('delayMs') delayMs?: string) {
    if (delayMs) await sleep(Number(delayMs));
    req.session.count = (req.session.count ?? 0) + 1;
    return { count: req.session.count };
  }

  /** Open to anyone; counting visits gives anonymous visitors a stored session. */
  @Post('visit')
  visit(@Req() req: Request, @Tenant() tenant: string) {
    req.session.visits = (req.session.visits ?? 0) + 1;
    return { tenant, visits: req.session.visits };
  }

  /** The session's CSRF token (token mode); makes an anonymous visitor's session stored. */
  @Get('csrf-token')
  csrfToken(@CsrfToken() token: string) {
    return { token };
  }

  /** Changes the session while an explicit save of it is in flight, then ends the request. */
  @Post('save-then-change')
  async saveThenChange(@Req() req: Request) {
    req.session.visits = 1;
    const saving = new Promise<void>((resolve, reject) =>
      req.session.save((err) => (err ? reject(err) : resolve())),
    );
    req.session.visits = 2;
    await saving;
    return { visits: req.session.visits };
  }

  @Get('peek')
  peek(@Req() req: Request, @Tenant() tenant: string) {
    return { tenant, user: req.session.user ?? null, visits: req.session.visits ?? 0 };
  }

  @Get('sessions')
  @UseGuards(SessionAuthGuard)
  async list(@Req() req: Request) {
    return (await this.sessions.listMine(req)).sessions;
  }

  @Delete('sessions/:id')
  @UseGuards(SessionAuthGuard)
  async revokeOne(
    @Tenant() tenant: string,
    @SessionUserId() userId: string,
    @Param('id') id: string,
  ) {
    return { revoked: await this.sessions.revoke(tenant, userId, id) };
  }

  /** The app re-checked the user's credentials (a password prompt) and says so. */
  @Post('reauthenticate')
  async reauthenticate(@Req() req: Request) {
    return { authenticatedAt: await this.logins.reauthenticated(req) };
  }

  @Post('sensitive')
  @RequireRecentLogin(RECENT_LOGIN_MAX_AGE_S)
  sensitive(@Req() req: Request) {
    return { authenticatedAt: this.logins.authenticatedAt(req) };
  }

  @Post('sensitive-by-default')
  @RequireRecentLogin()
  sensitiveByDefault() {
    return { ok: true };
  }

  @Post('sessions/revoke-others')
  @UseGuards(SessionAuthGuard)
  async revokeOthers(@Req() req: Request) {
    return { revoked: await this.sessions.revokeOthers(req) };
  }
}

export interface TestApp {
  app: NestExpressApplication;
  http: ReturnType<NestExpressApplication['getHttpServer']>;
  sessions: SessionRevocationService;
  logins: SessionLoginService;
  registry: TenantSessionRegistry;
  close(): Promise<void>;
}

/**
 * A Nest app with the module on the test Redis (or the embedded store with `redis: undefined`).
 * Give each suite its own `appName` so suites sharing the server never see each other's keys.
 * Logs are off (TEST_LOGS=1 shows them) unless a `logger` is given to capture them;
 * `controllers` adds a suite's own routes beside the shared ones; `beforeInit` adds middleware
 * in front of the module's (`app.use`); `platform` picks Express or Fastify (the Jest project's
 * by default); `trustProxy` says which proxies the app believes.
 */
export async function createTestApp(
  options: Partial<TenantSessionModuleOptions> & { appName: string },
  {
    logger,
    controllers = [],
    modules = [],
    beforeInit,
    platform,
    trustProxy,
  }: {
    logger?: LoggerService;
    controllers?: Type[];
    /** Modules of the suite's own (middleware), imported after the tenant session module. */
    modules?: Type[];
    beforeInit?: (app: NestExpressApplication) => void;
    platform?: TestPlatform;
    trustProxy?: TrustProxy;
  } = {},
): Promise<TestApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      TenantSessionModule.forRoot({
        tenant: { byHost: TEST_HOSTS },
        secret: TEST_SECRET,
        operationTimeoutMs: BUDGET_UNDER_LOAD_MS,
        ...options,
        redis: 'redis' in options ? options.redis : process.env.TEST_REDIS_URL,
      }),
      ...modules,
    ],
    controllers: [TestController, ...controllers],
  }).compile();
  const running = await startTestingApp(moduleRef, {
    logger,
    beforeInit,
    platform,
    trustProxy,
  });
  const { app } = running;
  return {
    ...running,
    sessions: app.get(SessionRevocationService),
    logins: app.get(SessionLoginService),
    registry: app.get(TenantSessionRegistry),
  };
}
