import {
  Logger,
  Module,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { TenantSessionModule } from 'nestjs-tenant-session';
import passport from 'passport';
import { AccountController } from './account/account.controller.js';
import { AdminController } from './admin/admin.controller.js';
import { AuthController } from './auth/auth.controller.js';
import { LocalStrategy } from './auth/local.strategy.js';
import { SessionSerializer } from './auth/session.serializer.js';
import { UserDirectory } from './auth/user-directory.service.js';
import { JsonPostsMiddleware } from './http/json-posts.middleware.js';
import { SessionGateway } from './live/session.gateway.js';
import { PageController } from './page/page.controller.js';
import { COOKIE_NAME, KEY_PREFIX_TEMPLATE, SampleConfig } from './sample-config.js';
import { SessionsController } from './sessions/sessions.controller.js';
import { LocalPasswordAttempts, PasswordAttempts } from './throttling/password-attempts.js';
import { RedisPasswordAttempts } from './throttling/redis-password-attempts.js';

const audit = new Logger('Audit');

@Module({})
export class AppModule implements NestModule {
  static register(config: SampleConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PassportModule.register({ session: true }),
        TenantSessionModule.forRoot({
          tenant: { byHost: config.tenantHosts },
          appName: config.appName,
          redis: config.redisUrl,
          secret: config.sessionSecret,
          idleTtl: config.idleTtlSeconds,
          absoluteLifetime: config.absoluteLifetimeSeconds,
          // What @RequireRecentLogin() asks for (sessions/, admin/).
          recentLoginMaxAge: config.recentLoginMaxAgeSeconds,
          operationTimeoutMs: config.redisTimeoutMs,
          // The defaults, spelled out: the reader service must use the very same ones.
          cookieName: COOKIE_NAME,
          keyPrefix: KEY_PREFIX_TEMPLATE,
          // Needs the tenant's session, so it runs in the module's middleware, right after it.
          afterSession: [passport.session()],
          // Every instance hears every revocation; one made by another instance is `remote`.
          onRevoked: ({ tenant, userId, reason, revoked, remote }) =>
            audit.log(
              `${tenant}: revoked ${revoked} session(s) of ${userId ?? '*'} (${reason})` +
                (remote ? ' on another instance' : ''),
            ),
        }),
      ],
      controllers: [
        PageController,
        AuthController,
        AccountController,
        SessionsController,
        AdminController,
      ],
      providers: [
        { provide: SampleConfig, useValue: config },
        {
          // In the sessions' Redis, shared by every instance; on the embedded store, in-process.
          provide: PasswordAttempts,
          useFactory: () =>
            config.redisUrl
              ? new RedisPasswordAttempts(config.redisUrl, config.appName, config.redisTimeoutMs)
              : new LocalPasswordAttempts(),
        },
        UserDirectory,
        LocalStrategy,
        SessionSerializer,
        SessionGateway,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(JsonPostsMiddleware).forRoutes('*');
  }
}
