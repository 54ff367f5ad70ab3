import {
  Inject,
  Module,
  type MiddlewareConsumer,
  type NestModule,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { TenantSessionMiddleware } from './express/tenant-session.middleware.js';
import { FastifyTenantSessionMiddleware } from './fastify/fastify-session.middleware.js';
import { installFastifySessionHooks } from './fastify/fastify-session.hooks.js';
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
import { RevocationEvents } from './revocation/revocation-events.js';
import { SessionCap } from './revocation/session-cap.js';
import { SessionRevocationService } from './revocation/session-revocation.service.js';
import { SessionRevoker } from './revocation/session-revoker.js';
import { SessionLifecycle } from './session/session-lifecycle.js';
import { SessionStatsService } from './session/session-stats.service.js';
import { TenantSessionRegistry } from './session/tenant-session.registry.js';
import { Deployments } from './store/deployments.js';
import { connectDeployments } from './store/deployments.factory.js';
import { TenantIdentifier } from './tenancy/tenant-identifier.js';
import { loadTelemetry } from './telemetry/load-telemetry.js';
import { SessionTelemetry } from './telemetry/session-telemetry.js';
import {
  ConfigurableModuleClass,
  TENANT_SESSION_OPTIONS,
} from './tenant-session.module-definition.js';

/**
 * Per-tenant Redis sessions for Nest. `TenantSessionModule.forRoot(options)` or
 * `.forRootAsync({ imports, inject, useFactory | useClass | useExisting })`, `isGlobal` optional.
 * Applies, on the configured routes, in an Express or a Fastify app: tenant resolution, then that tenant's session, then the
 * app's `afterSession` middleware (`passport.session()`). The module is where its parts are
 * wired together, at start: who hears of logins (the session cap, the event relay), of
 * revocations (the `onRevoked` option, the relay), of session events (sockets, the relay), and
 * where metrics and spans go (SessionTelemetry, when the app has `@opentelemetry/api`).
 */
@Module({
  providers: [
    { provide: RESOLVED_OPTIONS, useFactory: resolveOptions, inject: [TENANT_SESSION_OPTIONS] },
    { provide: SessionTelemetry, useFactory: loadTelemetry, inject: [RESOLVED_OPTIONS] },
    {
      provide: Deployments,
      useFactory: connectDeployments,
      inject: [RESOLVED_OPTIONS, SessionTelemetry],
    },
    { provide: SessionLifecycle, useFactory: () => new SessionLifecycle() },
    { provide: RevocationEvents, useFactory: () => new RevocationEvents() },
    {
      provide: SessionRevoker,
      useFactory: (events: RevocationEvents, telemetry: SessionTelemetry) =>
        new SessionRevoker(events, telemetry),
      inject: [RevocationEvents, SessionTelemetry],
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
      inject: [RESOLVED_OPTIONS, Deployments, TenantSessionRegistry],
    },
    {
      provide: SessionEventRelay,
      useFactory: (bus: SessionEventBus, events: RevocationEvents) =>
        new SessionEventRelay(bus, events),
      inject: [SessionEventBus, RevocationEvents],
    },
    SessionSockets,
    TenantSessionRegistry,
    SessionRevocationService,
    SessionStatsService,
    SessionLoginService,
    SessionAuthGuard,
    RecentLoginGuard,
    TenantSessionMiddleware,
    FastifyTenantSessionMiddleware,
  ],
  exports: [
    RESOLVED_OPTIONS,
    TenantIdentifier,
    Deployments,
    TenantSessionRegistry,
    SessionRevocationService,
    SessionStatsService,
    SessionLoginService,
    SessionAuthGuard,
    RecentLoginGuard,
    SessionSockets,
    SessionLifecycle,
    SessionRevoker,
  ],
})
export class TenantSessionModule
  extends ConfigurableModuleClass
  implements NestModule, OnModuleInit, OnApplicationShutdown
{
  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
    private readonly deployments: Deployments,
    @Inject(SessionEventBus) private readonly bus: SessionEventBus,
    private readonly lifecycle: SessionLifecycle,
    private readonly revocations: RevocationEvents,
    private readonly revoker: SessionRevoker,
    private readonly relay: SessionEventRelay,
    private readonly sockets: SessionSockets,
    private readonly registry: TenantSessionRegistry,
    private readonly telemetry: SessionTelemetry,
    private readonly host: HttpAdapterHost,
  ) {
    super();
  }

  /** On Fastify, the Fastify binding: its middleware, and hooks on the adapter's instance. */
  configure(consumer: MiddlewareConsumer): void {
    const adapter = this.host.httpAdapter;
    const fastify = adapter?.getType() === 'fastify';
    if (fastify) installFastifySessionHooks(adapter.getInstance());
    consumer
      .apply(fastify ? FastifyTenantSessionMiddleware : TenantSessionMiddleware)
      .exclude(...this.options.exclude)
      .forRoutes(...this.options.forRoutes);
  }

  onModuleInit(): void {
    const { onRevoked, maxSessionsPerUser, operationTimeoutMs } = this.options;
    if (onRevoked) this.revocations.listen(onRevoked);
    this.revocations.listen((event) => this.relay.revoked(event));
    if (maxSessionsPerUser !== false) {
      this.lifecycle.listen(
        new SessionCap(this.registry, this.revoker, maxSessionsPerUser, operationTimeoutMs),
      );
    }
    this.lifecycle.listen(this.relay);
    if (this.telemetry.enabled) {
      this.lifecycle.listen({
        loggedIn: (event) => this.telemetry.loggedIn(event),
        loggedOut: (event) => this.telemetry.loggedOut(event),
      });
    }
    this.bus.subscribe((event, remote) => this.relay.received(event, remote));
    this.sockets.listenTo(this.bus);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.bus.close();
    await this.deployments.close();
  }
}

/** The Express app's `app.request`, once the app has an Express adapter. */
function expressRequestPrototype(host: HttpAdapterHost): object | undefined {
  if (host.httpAdapter?.getType() !== 'express') return undefined;
  const request = (host.httpAdapter?.getInstance?.() as { request?: unknown } | undefined)?.request;
  return typeof request === 'object' && request !== null ? request : undefined;
}
