import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { InvalidTenantSessionOptionsError } from '../errors/invalid-options.error.js';
import { SessionStoreUnavailableException } from '../errors/session-store-unavailable.exception.js';
import { RESOLVED_OPTIONS, type ResolvedOptions } from '../options/resolved-options.js';
import { OperationBudget } from '../store/operation-budget.js';
import { SessionBackend } from '../store/session-backend.interface.js';

export interface TenantSessionPingOptions {
  /** Longest wait for every answer, in ms. Default: the module's `operationTimeoutMs`. */
  timeout?: number;
}

/**
 * A `@nestjs/terminus` indicator for the session store: PING on the module's own connection
 * (the server; through Sentinel, its current master; on a Cluster, every master), `up` when all
 * answer within the timeout, otherwise `down` with the reason session requests get their 503
 * for (unreachable, timed out, an unsafe memory policy, ...). Provide it beside the health
 * controller: it finds the module's store wherever `TenantSessionModule` was imported, as
 * terminus's own database indicators do.
 */
@Injectable()
export class TenantSessionHealthIndicator implements OnModuleInit {
  private store?: { backend: SessionBackend; defaultTimeoutMs: number };

  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly healthIndicatorService: HealthIndicatorService,
  ) {}

  /** A missing module fails the app's start-up rather than its first health check. */
  onModuleInit(): void {
    this.locateStore();
  }

  /**
   * @param key the key of this indicator in the health check's answer, e.g. `'sessions'`
   * @example
   * health.check([() => sessions.pingCheck('sessions', { timeout: 500 })])
   */
  async pingCheck<const Key extends string>(
    key: Key,
    options: TenantSessionPingOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const { backend, defaultTimeoutMs } = this.locateStore();
    const timeoutMs = options.timeout ?? defaultTimeoutMs;
    if (!(timeoutMs > 0)) {
      throw new InvalidTenantSessionOptionsError(
        `pingCheck timeout must be positive, got ${timeoutMs}`,
      );
    }
    const indicator = this.healthIndicatorService.check(key);
    try {
      await backend.ping(new OperationBudget(timeoutMs));
      return indicator.up();
    } catch (error) {
      const reason = error instanceof SessionStoreUnavailableException ? error.reason : undefined;
      return indicator.down({ message: reason ?? 'Session store unavailable' });
    }
  }

  private locateStore(): { backend: SessionBackend; defaultTimeoutMs: number } {
    if (this.store) return this.store;
    try {
      const backend = this.moduleRef.get<SessionBackend>(SessionBackend, { strict: false });
      const options = this.moduleRef.get<ResolvedOptions>(RESOLVED_OPTIONS, { strict: false });
      return (this.store = { backend, defaultTimeoutMs: options.operationTimeoutMs });
    } catch {
      throw new Error(
        'TenantSessionHealthIndicator found no TenantSessionModule in this app: import ' +
          'TenantSessionModule.forRoot() or .forRootAsync() in one of its modules',
      );
    }
  }
}
