import { Controller, Get, Module, Post, Query, Req, type Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { startTestingApp, type RunningTestingApp, type TestPlatform } from './testing-app.js';
import type { Request } from 'express';
import {
  Public,
  SessionAuthGuard,
  TenantSessionModule,
  type TenantSessionModuleOptions,
} from 'nestjs-tenant-session';
import { TenantSessionHealthIndicator } from 'nestjs-tenant-session/health';
import { TEST_HOSTS, TEST_SECRET } from './test-app.js';

declare module 'express-session' {
  interface SessionData {
    visits?: number;
  }
}

// The health recipe (docs/recipes/health-checks.md): its own module, outside tenant resolution (`exclude`) and the
// global login guard (`@Public()`).

@Controller('health')
@Public()
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly sessions: TenantSessionHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check(@Query('timeout') timeout?: string) {
    return this.health.check([
      () => this.sessions.pingCheck('sessions', { timeout: timeout ? Number(timeout) : undefined }),
    ]);
  }
}

@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [TenantSessionHealthIndicator],
})
class HealthModule {}

/** Tenant routes, behind the global guard unless public. */
@Controller()
class TenantController {
  @Get('whoami')
  whoami() {
    return { ok: true };
  }

  /** Writes the session: 201 when the store works, 503 when it does not. */
  @Post('visit')
  @Public()
  visit(@Req() req: Request) {
    req.session.visits = (req.session.visits ?? 0) + 1;
    return { visits: req.session.visits };
  }
}

export type HealthApp = RunningTestingApp;

/**
 * The module (not global, imported after the health module, which therefore cannot inject
 * anything of it) with SessionAuthGuard as APP_GUARD, and a terminus health route; on Express
 * unless `platform` says Fastify.
 */
export async function createHealthApp(
  options: Partial<TenantSessionModuleOptions> & { appName: string },
  {
    withoutSessionModule = false,
    platform,
  }: { withoutSessionModule?: boolean; platform?: TestPlatform } = {},
): Promise<HealthApp> {
  const sessionModule = TenantSessionModule.forRoot({
    tenant: { byHost: TEST_HOSTS },
    secret: TEST_SECRET,
    exclude: ['health'],
    ...options,
  });
  @Module({
    imports: [HealthModule, ...(withoutSessionModule ? [] : [sessionModule])],
    controllers: withoutSessionModule ? [] : [TenantController],
    providers: withoutSessionModule ? [] : [{ provide: APP_GUARD, useExisting: SessionAuthGuard }],
  })
  class AppModule {}
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule as Type<unknown>],
  }).compile();
  return startTestingApp(moduleRef, { platform });
}
