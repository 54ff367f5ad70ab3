import {
  Inject,
  Module,
  type MiddlewareConsumer,
  type NestModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { RecentLoginGuard } from './http/recent-login.guard.js';
import { SessionAuthGuard } from './http/session-auth.guard.js';
import { SessionLoginService } from './identity/session-login.service.js';
import {
  RESOLVED_OPTIONS,
  resolveOptions,
  type ResolvedOptions,
} from './options/resolved-options.js';
import { createSessionEventBus } from './realtime/session-event-bus.factory.js';
import { SessionEventBus } from './realtime/session-event-bus.interface.js';
import { SessionEventRelay } from './realtime/session-event-relay.js';
import { SessionSockets } from './realtime/session-sockets.js';
import { SessionRevocationService } from './revocation/session-revocation.service.js';
import { TenantSessionRegistry } from './session/tenant-session.registry.js';
import { createSessionBackends } from './store/session-backend.factory.js';
import { SessionBackend } from './store/session-backend.interface.js';
import { SessionBackends } from './store/session-backends.js';
import { TenantIdentifier } from './tenancy/tenant-identifier.js';
import {
  ConfigurableModuleClass,
  TENANT_SESSION_OPTIONS,
} from './tenant-session.module-definition.js';
import { TenantSessionMiddleware } from './tenant-session.middleware.js';

/**
 * Per-tenant Redis sessions for Nest on Express. `TenantSessionModule.forRoot(options)` or
 * `.forRootAsync({ imports, inject, useFactory | useClass | useExisting })`, `isGlobal` optional.
 * Applies, on the configured routes: tenant resolution, then that tenant's session middleware,
 * then the app's `afterSession` middleware (`passport.session()`).
 */
@Module({
  providers: [
    { provide: RESOLVED_OPTIONS, useFactory: resolveOptions, inject: [TENANT_SESSION_OPTIONS] },
    { provide: SessionBackends, useFactory: createSessionBackends, inject: [RESOLVED_OPTIONS] },
    // The default deployment's, for code written before deployments existed.
    {
      provide: SessionBackend,
      useFactory: (backends: SessionBackends) => backends.get(),
      inject: [SessionBackends],
    },
    {
      provide: TenantIdentifier,
      // Requests outside Express (socket handshakes) get the Express app's request getters.
      useFactory: (o: ResolvedOptions, host: HttpAdapterHost) =>
        new TenantIdentifier(o.resolveTenant, o.unknownTenantStatus, () =>
          expressRequestPrototype(host),
        ),
      inject: [RESOLVED_OPTIONS, HttpAdapterHost],
    },
    {
      provide: SessionEventBus,
      useFactory: createSessionEventBus,
      inject: [RESOLVED_OPTIONS, SessionBackends, TenantSessionRegistry],
    },
    SessionEventRelay,
    SessionSockets,
    TenantSessionRegistry,
    SessionRevocationService,
    SessionLoginService,
    SessionAuthGuard,
    RecentLoginGuard,
    TenantSessionMiddleware,
  ],
  exports: [
    RESOLVED_OPTIONS,
    TenantIdentifier,
    SessionBackend,
    SessionBackends,
    TenantSessionRegistry,
    SessionRevocationService,
    SessionLoginService,
    SessionAuthGuard,
    RecentLoginGuard,
  ],
})
export class TenantSessionModule
  extends ConfigurableModuleClass
  implements NestModule, OnApplicationShutdown
{
  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
    private readonly backends: SessionBackends,
    @Inject(SessionEventBus) private readonly events: SessionEventBus,
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
    await this.events.close();
    await this.backends.close();
  }
}

/** The Express app's `app.request`, once the app has an Express adapter. */
function expressRequestPrototype(host: HttpAdapterHost): object | undefined {
  const request = (host.httpAdapter?.getInstance?.() as { request?: unknown } | undefined)?.request;
  return typeof request === 'object' && request !== null ? request : undefined;
}
