import {
  Logger,
  Module,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { TenantSessionModule } from 'nestjs-tenant-session';
import { AccountController } from './account/account.controller.js';
import { AdminController } from './admin/admin.controller.js';
import { AuthController } from './auth/auth.controller.js';
import { UserDirectory } from './auth/user-directory.service.js';
import { JsonPostsMiddleware } from './http/json-posts.middleware.js';
import { PageController } from './page/page.controller.js';
import { COOKIE_NAME, KEY_PREFIX_TEMPLATE, SampleConfig } from './sample-config.js';
import { SessionsController } from './sessions/sessions.controller.js';

const audit = new Logger('Audit');

@Module({})
export class AppModule implements NestModule {
  static register(config: SampleConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        TenantSessionModule.forRoot({
          tenant: { byHost: config.tenantHosts },
          appName: config.appName,
          redis: config.redisUrl,
          secret: config.sessionSecret,
          idleTtl: config.idleTtlSeconds,
          // The defaults, spelled out: the reader service must use the very same ones.
          cookieName: COOKIE_NAME,
          keyPrefix: KEY_PREFIX_TEMPLATE,
          onRevoked: ({ tenant, userId, reason, revoked }) =>
            audit.log(`${tenant}: revoked ${revoked} session(s) of ${userId ?? '*'} (${reason})`),
        }),
      ],
      controllers: [
        PageController,
        AuthController,
        AccountController,
        SessionsController,
        AdminController,
      ],
      providers: [{ provide: SampleConfig, useValue: config }, UserDirectory],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(JsonPostsMiddleware).forRoutes('*');
  }
}
