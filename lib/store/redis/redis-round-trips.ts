import { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import { SessionStoreUnavailableException } from '../../errors/session-store-unavailable.exception.js';
import { errorType, type SessionTelemetry } from '../../telemetry/session-telemetry.js';
import type { RedisOperation } from '../../telemetry/telemetry-names.js';
import type { OperationBudget } from '../operation-budget.js';
import { unwrap, type Command } from './redis-command.js';
import { toStoreFailure } from './redis-failure.js';
import type { ReplicaPolicy } from './replica-policy.js';
import { ScriptCache } from './script-cache.js';
import { WriteCoalescing } from './write-coalescing.js';

/** At most one "unavailable" log line per this interval: an outage fails every request. */
const REPORT_INTERVAL_MS = 5_000;

/**
 * Every round trip the Redis backend makes goes through here: it waits at most what its budget
 * has left (nothing is sent when it is spent, whatever the client's offline-queue settings),
 * and any failure becomes a 503 (SessionStoreUnavailableException, reported at most every few
 * seconds) or, for a key of another type, WrongTypeError. Also where commands are batched: writes
 * coalesced while others await replies (write-coalescing.ts), scripts sent by digest
 * (script-cache.ts), several commands in one pipeline. Each round trip is timed and traced
 * (SessionTelemetry) under the operation it does.
 */
export class RedisRoundTrips {
  private readonly logger = new Logger('TenantSession');
  private readonly coalescing: WriteCoalescing;
  readonly scripts: ScriptCache;
  private lastReport = 0;

  constructor(
    readonly client: Redis | Cluster,
    readonly replicas: ReplicaPolicy,
    /** Why requests are refused right now (an unsafe memory policy), if they are. */
    private readonly refusal: () => string | undefined,
    private readonly telemetry: SessionTelemetry,
    /** The deployment this Redis is, for telemetry. */
    private readonly deployment: string,
  ) {
    this.coalescing = new WriteCoalescing(client);
    this.scripts = new ScriptCache(client);
  }

  /**
   * Runs one round trip within what the budget has left. A timed-out command may still run
   * later on a frozen server; every caller is ordered so that this is harmless.
   */
  run<T>(name: RedisOperation, operation: () => Promise<T>, budget: OperationBudget): Promise<T> {
    const reason = this.refusal();
    const refused = reason
      ? new SessionStoreUnavailableException(reason)
      : budget.remainingMs <= 0
        ? new SessionStoreUnavailableException('Redis timed out')
        : undefined;
    if (refused) return Promise.reject(this.failed(refused));
    const started = performance.now();
    const allowedMs = budget.remainingMs;
    const timing = this.telemetry.roundTrip(name, this.deployment, budget.tenant);
    // One promise and one timer per round trip (this runs for every command a request sends).
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = (error: unknown, value?: T, timedOut = false) => {
        // A reply after the deadline changes nothing: the round trip already failed.
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.coalescing.answered();
        // A timer may fire a fraction of a millisecond early: timing out spends it all.
        const spentMs = performance.now() - started;
        budget.spend(timedOut ? Math.max(spentMs, allowedMs) : spentMs);
        if (error === undefined) {
          timing?.end();
          return resolve(value as T);
        }
        const failure = this.failed(error);
        timing?.end(errorType(failure));
        reject(failure);
      };
      const timer = setTimeout(
        () => settle(new SessionStoreUnavailableException('Redis timed out'), undefined, true),
        allowedMs,
      );
      let sent: Promise<T>;
      try {
        this.coalescing.sending();
        sent = operation();
      } catch (error) {
        sent = Promise.reject(error as Error);
      }
      sent.then(
        (value) => settle(undefined, value),
        (error: unknown) => settle(error ?? new Error('Redis command failed')),
      );
    });
  }

  call(command: Command): Promise<unknown> {
    const [name, ...args] = command;
    return this.client.call(name, ...args);
  }

  /** Several commands in one round trip; replies in order, the first error thrown. */
  async together(commands: Command[]): Promise<unknown[]> {
    if (this.client.isCluster) return Promise.all(commands.map((c) => this.call(c)));
    return unwrap(await this.client.pipeline(commands).exec());
  }

  /** One write that acknowledges something (see ReplicaPolicy); its reply. */
  acknowledged(command: Command): Promise<unknown> {
    return this.replicas.acknowledgedOne(command);
  }

  /** Any failure as the 503 (or WrongTypeError) it becomes; a 503 is reported (throttled). */
  private failed(error: unknown): Error {
    const failure = toStoreFailure(error);
    if (failure instanceof SessionStoreUnavailableException) this.report(failure.reason);
    return failure;
  }

  private report(reason: string): void {
    if (Date.now() - this.lastReport < REPORT_INTERVAL_MS) return;
    this.lastReport = Date.now();
    this.logger.warn(`Session store unavailable: ${reason}`);
  }
}
