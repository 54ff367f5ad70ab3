/**
 * The sample-style app on this module, shared by the HTTP comparison (several tenants by Host,
 * and the minimal one-tenant app of the like-for-like pair, on Express or on Fastify), the
 * many-tenants benchmark (tenants by header) and the revocation benchmark.
 */
import 'reflect-metadata';
import { Body, Controller, Get, Module, Post, Query, Req, UseGuards } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { SessionData } from 'express-session';
import {
  Session,
  SessionAuthGuard,
  SessionLoginService,
  SessionRevocationService,
  Tenant,
  type SessionRequest,
  TenantSessionModule,
  type TenantSessionModuleOptions,
} from 'nestjs-tenant-session';
import { BENCH_APP_NAME, BENCH_SECRET, IDLE_TTL_SECONDS } from './bench-app.js';

/**
 * The routes every app of the HTTP comparison serves, (d)'s among them. `@Req()` is Express's
 * request or Fastify's, both with the session fields the module gives them.
 */
@Controller()
class AccountController {
  constructor(private readonly logins: SessionLoginService) {}

  @Post('login')
  async login(@Req() req: SessionRequest, @Body() body: { user: string }) {
    await this.logins.login(req, body.user, { data: { user: body.user } });
    return { user: body.user };
  }

  @Get('me')
  @UseGuards(SessionAuthGuard)
  me(@Session() session: SessionData, @Tenant() tenant: string) {
    return { user: session.user, tenant, count: session.count ?? 0 };
  }

  @Post('increment')
  @UseGuards(SessionAuthGuard)
  increment(@Req() req: Required<SessionRequest>) {
    req.session.count = (req.session.count ?? 0) + 1;
    return { count: req.session.count };
  }
}

/** What the sample adds: revocation and listing (the visibility and listing benchmarks). */
@Controller()
class SessionsController {
  constructor(private readonly revocations: SessionRevocationService) {}

  /** "Sign out everywhere" for a user of the request's tenant (the visibility benchmark). */
  @Post('revoke-all')
  async revokeAll(@Tenant() tenant: string, @Body() body: { user: string }) {
    return { revoked: await this.revocations.revokeAll(tenant, body.user) };
  }

  /** A page of the caller's sessions, as the sample's `GET /sessions?limit=&cursor=`. */
  @Get('sessions')
  @UseGuards(SessionAuthGuard)
  async sessions(
    @Req() req: SessionRequest,
    @Query('limit') limit?: string,
    @Query('cursor') cursor?: string,
  ) {
    const page = await this.revocations.listMine(req, {
      limit: limit === undefined ? undefined : Number(limit),
      cursor,
    });
    return { sessions: page.sessions, total: page.total, next: page.nextCursor };
  }
}

export type BenchModuleOptions = Pick<TenantSessionModuleOptions, 'tenant' | 'redis'> &
  Partial<TenantSessionModuleOptions>;

export interface BenchAppShape {
  /** Only (d)'s routes, login, me and increment (the like-for-like pair). */
  minimal?: boolean;
  /** Express (the default) or Fastify (`FastifyAdapter`), the same module options on both. */
  platform?: 'express' | 'fastify';
}

export async function createTenantSessionApp(
  options: BenchModuleOptions,
  { minimal = false, platform = 'express' }: BenchAppShape = {},
): Promise<INestApplication> {
  @Module({
    imports: [
      TenantSessionModule.forRoot({
        appName: BENCH_APP_NAME,
        secret: BENCH_SECRET,
        idleTtl: IDLE_TTL_SECONDS,
        ...options,
      }),
    ],
    controllers: minimal ? [AccountController] : [AccountController, SessionsController],
  })
  class BenchAppModule {}

  if (platform === 'fastify') {
    return NestFactory.create(BenchAppModule, new FastifyAdapter(), { logger: false });
  }
  const app = await NestFactory.create<NestExpressApplication>(BenchAppModule, { logger: false });
  app.disable('x-powered-by');
  return app;
}
