import type * as OpenTelemetry from '@opentelemetry/api';
import type { Attributes, Counter, Histogram, Span, Tracer } from '@opentelemetry/api';
import type { RevocationReason } from '../options/session-revoked.event.js';
import type { ResolvedTelemetry } from '../options/telemetry-option.js';
import {
  ATTRIBUTES,
  INSTRUMENTATION_SCOPE,
  METRICS,
  SPANS,
  type RedisOperation,
} from './telemetry-names.js';

/**
 * `@opentelemetry/api`, when the app has it (see load-telemetry.ts). Internal, as every OTel
 * type here: the published declarations must compile in an app without it.
 * @internal
 */
export type OpenTelemetryApi = typeof OpenTelemetry;

/** Where a piece of work happened: the tenant (when known and wanted) and its deployment. */
export interface TelemetryScope {
  tenant?: string;
  deployment: string;
}

/** Why a request was refused, as the module answered it. */
export interface Refusal {
  status: 401 | 403 | 503;
  code: string;
}

/** Seconds, as OpenTelemetry's duration histograms count. */
const SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** A Redis round trip being timed; `end` once it answered or failed. */
export interface RoundTripTiming {
  end(errorType?: string): void;
}

/**
 * The module's metrics and spans, recorded through `@opentelemetry/api` (the app's SDK decides
 * where they go; with none registered the API's no-op instruments cost next to nothing). Never
 * given a user id, a session id or a key: only the tenant, the deployment and fixed words.
 * Without the API installed (`SessionTelemetry.off`) every method returns at once.
 */
export class SessionTelemetry {
  /** No `@opentelemetry/api` in the app: nothing is recorded. */
  static readonly off = new SessionTelemetry(undefined, { tenantAttribute: false });

  private readonly tracer?: Tracer;
  private readonly counters?: Record<
    | 'logins'
    | 'logouts'
    | 'revocations'
    | 'revokedSessions'
    | 'refusals'
    | 'hits'
    | 'misses'
    | 'invalidations',
    Counter
  >;
  private readonly redisDuration?: Histogram;
  private readonly sessionWork?: Histogram;

  /** @internal */
  constructor(
    private readonly api: OpenTelemetryApi | undefined,
    private readonly settings: ResolvedTelemetry,
  ) {
    if (!api) return;
    const meter = api.metrics.getMeter(INSTRUMENTATION_SCOPE);
    const counter = (name: string, unit: string, description: string) =>
      meter.createCounter(name, { unit, description });
    const seconds = (name: string, description: string) =>
      meter.createHistogram(name, {
        unit: 's',
        description,
        advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
      });
    this.tracer = api.trace.getTracer(INSTRUMENTATION_SCOPE);
    this.counters = {
      logins: counter(METRICS.logins, '{login}', 'Sessions that got a user'),
      logouts: counter(METRICS.logouts, '{logout}', 'Sessions that stopped belonging to a user'),
      revocations: counter(METRICS.revocations, '{revocation}', 'Revocations made here'),
      revokedSessions: counter(METRICS.revokedSessions, '{session}', 'Live sessions revoked'),
      refusals: counter(METRICS.refusals, '{request}', 'Requests the module refused'),
      hits: counter(METRICS.nearCacheHits, '{read}', 'Session reads served by the near cache'),
      misses: counter(METRICS.nearCacheMisses, '{read}', 'Session reads the near cache sent on'),
      invalidations: counter(
        METRICS.nearCacheInvalidations,
        '{key}',
        'Keys Redis reported changed to the near cache',
      ),
    };
    this.redisDuration = seconds(METRICS.redisDuration, 'Redis round trips, by operation');
    this.sessionWork = seconds(
      METRICS.sessionWorkDuration,
      "A request's session work: tenant, load, and the commit before its response",
    );
  }

  /** Whether anything is recorded (the API is installed). */
  get enabled(): boolean {
    return this.api !== undefined;
  }

  loggedIn(scope: TelemetryScope): void {
    this.counters?.logins.add(1, this.attributes(scope));
  }

  loggedOut(scope: TelemetryScope): void {
    this.counters?.logouts.add(1, this.attributes(scope));
  }

  revoked(scope: TelemetryScope, reason: RevocationReason, sessions: number): void {
    if (!this.counters) return;
    const attributes = { ...this.attributes(scope), [ATTRIBUTES.revocationReason]: reason };
    this.counters.revocations.add(1, attributes);
    this.counters.revokedSessions.add(sessions, attributes);
  }

  refused(scope: TelemetryScope, { status, code }: Refusal): void {
    this.counters?.refusals.add(1, {
      ...this.attributes(scope),
      [ATTRIBUTES.statusCode]: status,
      [ATTRIBUTES.refusalCode]: code,
    });
  }

  /** A session read the near cache served (`hit`) or sent on to Redis. */
  nearCacheRead(hit: boolean, deployment: string, tenant: string | undefined): void {
    this.counters?.[hit ? 'hits' : 'misses'].add(1, this.attributes({ tenant, deployment }));
  }

  nearCacheInvalidated(deployment: string, keys: number): void {
    this.counters?.invalidations.add(keys, { [ATTRIBUTES.deployment]: deployment });
  }

  sessionWorkDone(scope: TelemetryScope, ms: number): void {
    this.sessionWork?.record(ms / 1000, this.attributes(scope));
  }

  /**
   * Times one Redis round trip, as a client span (a child of the active span: the request's,
   * a login's or a revocation's) and in the duration histogram.
   */
  roundTrip(
    operation: RedisOperation,
    deployment: string,
    tenant: string | undefined,
  ): RoundTripTiming | undefined {
    if (!this.tracer) return undefined;
    const attributes: Attributes = {
      ...this.attributes({ tenant, deployment }),
      [ATTRIBUTES.dbSystem]: 'redis',
      [ATTRIBUTES.dbSystemName]: 'redis',
      [ATTRIBUTES.dbOperation]: operation,
    };
    const started = performance.now();
    const span = this.tracer.startSpan(SPANS.redisPrefix + operation, {
      kind: this.api!.SpanKind.CLIENT,
      attributes,
    });
    return {
      end: (errorType) => {
        const seconds = (performance.now() - started) / 1000;
        if (errorType !== undefined) {
          attributes[ATTRIBUTES.errorType] = errorType;
          this.failed(span, errorType);
        }
        this.redisDuration!.record(seconds, attributes);
        span.end();
      },
    };
  }

  /**
   * Runs `work` in a span of this name (the active span while it runs, so its round trips are
   * its children); a failure marks the span with the error's name, never its message.
   */
  async span<T>(
    name: string,
    scope: TelemetryScope,
    work: () => Promise<T>,
    attributes: Record<string, string> = {},
  ): Promise<T> {
    if (!this.tracer) return work();
    const options = { attributes: { ...this.attributes(scope), ...attributes } };
    return this.tracer.startActiveSpan(name, options, async (span) => {
      try {
        return await work();
      } catch (error) {
        this.failed(span, errorType(error));
        throw error;
      } finally {
        span.end();
      }
    });
  }

  private failed(span: Span, type: string): void {
    span.setAttribute(ATTRIBUTES.errorType, type);
    span.setStatus({ code: this.api!.SpanStatusCode.ERROR });
  }

  private attributes({ tenant, deployment }: TelemetryScope): Attributes {
    return tenant !== undefined && this.settings.tenantAttribute
      ? { [ATTRIBUTES.tenant]: tenant, [ATTRIBUTES.deployment]: deployment }
      : { [ATTRIBUTES.deployment]: deployment };
  }
}

/** An error as `error.type`: its code when it has one (the module's exceptions do), its name. */
export function errorType(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.name : 'unknown';
}
