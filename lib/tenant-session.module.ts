import {
  Inject,
  Module,
  type MiddlewareConsumer,
  type NestModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { SessionAuthGuard } from './http/session-auth.guard.js';
import { SessionLoginService } from './identity/session-login.service.js';
import {
  RESOLVED_OPTIONS,
  resolveOptions,
  type ResolvedOptions,
} from './options/resolved-options.js';
import { SessionRevocationService } from './revocation/session-revocation.service.js';
import { TenantSessionRegistry } from './session/tenant-session.registry.js';
import { createSessionBackend } from './store/session-backend.factory.js';
import { SessionBackend } from './store/session-backend.interface.js';
import { TenantIdentifier } from './tenancy/tenant-identifier.js';
import {
  ConfigurableModuleClass,
  TENANT_SESSION_OPTIONS,
} from './tenant-session.module-definition.js';
import { TenantSessionMiddleware } from './tenant-session.middleware.js';

/**
 * Per-tenant Redis sessions for Nest on Express. `TenantSessionModule.forRoot(options)` or
 * `.forRootAsync({ imports, inject, useFactory | useClass | useExisting })`, `isGlobal` optional.
 * Applies, on the configured routes: tenant resolution, then that tenant's session middleware.
 */
@Module({
  providers: [
    { provide: RESOLVED_OPTIONS, useFactory: resolveOptions, inject: [TENANT_SESSION_OPTIONS] },
    { provide: SessionBackend, useFactory: createSessionBackend, inject: [RESOLVED_OPTIONS] },
    {
      provide: TenantIdentifier,
      useFactory: (o: ResolvedOptions) =>
        new TenantIdentifier(o.resolveTenant, o.unknownTenantStatus),
      inject: [RESOLVED_OPTIONS],
    },
    TenantSessionRegistry,
    SessionRevocationService,
    SessionLoginService,
    SessionAuthGuard,
    TenantSessionMiddleware,
  ],
  exports: [
    RESOLVED_OPTIONS,
    SessionBackend,
    TenantSessionRegistry,
    SessionRevocationService,
    SessionLoginService,
    SessionAuthGuard,
  ],
})
export class TenantSessionModule
  extends ConfigurableModuleClass
  implements NestModule, OnApplicationShutdown
{
  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
    @Inject(SessionBackend) private readonly backend: SessionBackend,
  ) {
    super();
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(TenantSessionMiddleware)
      .exclude(...this.options.exclude)
      .forRoutes(...this.options.forRoutes);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.backend.close();
  }
}
