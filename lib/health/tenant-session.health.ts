import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { InvalidTenantSessionOptionsError } from '../errors/invalid-options.error.js';
import { SessionStoreUnavailableException } from '../errors/session-store-unavailable.exception.js';
import { RESOLVED_OPTIONS, type ResolvedOptions } from '../options/resolved-options.js';
import { OperationBudget } from '../store/operation-budget.js';
import { Deployments } from '../store/deployments.js';

export interface TenantSessionPingOptions {
  /** Longest wait for every answer, in ms. Default: the module's `operationTimeoutMs`. */
  timeout?: number;
}

/**
 * A `@nestjs/terminus` indicator for the session store: PING on the module's own connection
 * (the server; through Sentinel, its current master; on a Cluster, every master), on every
 * deployment tenants are placed on, `up` when all answer within the timeout, otherwise `down` with the reason session requests get their 503
 * for (unreachable, timed out, an unsafe memory policy, ...). Provide it beside the health
 * controller: it finds the module's store wherever `TenantSessionModule` was imported, as
 * terminus's own database indicators do.
 */
@Injectable()
export class TenantSessionHealthIndicator implements OnModuleInit {
  private store?: { backends: Deployments; defaultTimeoutMs: number };

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
    const { backends, defaultTimeoutMs } = this.locateStore();
    const timeoutMs = options.timeout ?? defaultTimeoutMs;
    if (!(timeoutMs > 0)) {
      throw new InvalidTenantSessionOptionsError(
        `pingCheck timeout must be positive, got ${timeoutMs}`,
      );
    }
    const indicator = this.healthIndicatorService.check(key);
    const budget = new OperationBudget(timeoutMs);
    const deployments = backends.entries();
    const failures = (
      await Promise.all(
        deployments.map(async ([deployment, backend]) => {
          try {
            await backend.lifecycle.ping(budget);
            return undefined;
          } catch (error) {
            const reason =
              error instanceof SessionStoreUnavailableException ? error.reason : undefined;
            return { deployment, reason: reason ?? 'Session store unavailable' };
          }
        }),
      )
    ).filter((failure) => failure !== undefined);
    if (failures.length === 0) return indicator.up();
    // With one deployment the answer stays what it always was; with several, it names them.
    if (deployments.length === 1) return indicator.down({ message: failures[0].reason });
    return indicator.down({
      message: failures.map((f) => `${f.deployment}: ${f.reason}`).join('; '),
      deployments: Object.fromEntries(failures.map((f) => [f.deployment, f.reason])),
    });
  }

  private locateStore(): { backends: Deployments; defaultTimeoutMs: number } {
    if (this.store) return this.store;
    try {
      const backends = this.moduleRef.get(Deployments, { strict: false });
      const options = this.moduleRef.get<ResolvedOptions>(RESOLVED_OPTIONS, { strict: false });
      return (this.store = { backends, defaultTimeoutMs: options.operationTimeoutMs });
    } catch {
      throw new Error(
        'TenantSessionHealthIndicator found no TenantSessionModule in this app: import ' +
          'TenantSessionModule.forRoot() or .forRootAsync() in one of its modules',
      );
    }
  }
}
