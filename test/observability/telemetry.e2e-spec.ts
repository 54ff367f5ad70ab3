import { context, metrics, SpanKind, trace, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  MeterProvider,
  MetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { useOwnRedisServer } from '../support/own-redis.js';
import { pollUntil } from '../support/redis-server.mjs';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';

/**
 * The OpenTelemetry metrics and spans (docs/observability.md), read through the SDK's in-memory
 * exporters after a scripted run against a real redis-server: logins, reads from the near cache,
 * an invalidation, a CSRF refusal, a revocation that ends a request in flight (401), a frozen
 * Redis (SIGSTOP: 503s), a logout. Figures are asserted exactly; spans as a tree under the
 * request's span, as an HTTP instrumentation would make it.
 */

const TIMEOUT_MS = 300;
const SCOPE = 'nestjs-tenant-session';
const ALICE = 'alice-7f3a1c';
const BOB = 'bob-2d9e44';

/** A reader the test collects from when it wants (cumulative sums since the start). */
class CollectingReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

const contextManager = new AsyncLocalStorageContextManager().enable();
const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(spans)],
});
const reader = new CollectingReader();
const meterProvider = new MeterProvider({ readers: [reader] });
// Registered before any app starts, as an app's SDK set-up does (the module reads them at start).
context.setGlobalContextManager(contextManager);
trace.setGlobalTracerProvider(tracerProvider);
metrics.setGlobalMeterProvider(meterProvider);

/** The request's server span, as @opentelemetry/instrumentation-http makes it: active within. */
function requestSpans(app: NestExpressApplication): void {
  const tracer = trace.getTracer('test-http');
  app.use((req: { method: string; url: string }, res: NodeJS.EventEmitter, next: () => void) => {
    const path = req.url.split('?', 1)[0];
    const span = tracer.startSpan(`${req.method} ${path}`, { kind: SpanKind.SERVER });
    res.on('close', () => span.end());
    context.with(trace.setSpan(context.active(), span), next);
  });
}

async function collect(): Promise<MetricData[]> {
  const { resourceMetrics } = await reader.collect();
  return resourceMetrics.scopeMetrics
    .filter((scope) => scope.scope.name === SCOPE)
    .flatMap((scope) => scope.metrics);
}

/** The points of a metric whose attributes include `match`. */
function points(all: MetricData[], name: string, match: Attributes = {}): DataPoint<unknown>[] {
  const metric = all.find((m) => m.descriptor.name === name);
  return ((metric?.dataPoints ?? []) as DataPoint<unknown>[]).filter((point) =>
    Object.entries(match).every(([key, value]) => point.attributes[key] === value),
  );
}

/** A counter's total over the points that match; a histogram's count of recordings. */
function total(all: MetricData[], name: string, match: Attributes = {}): number {
  return points(all, name, match).reduce((sum, point) => {
    const value = point.value as number | Histogram;
    return sum + (typeof value === 'number' ? value : value.count);
  }, 0);
}

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan) => span.spanContext().spanId;

describe('OpenTelemetry metrics and spans', () => {
  const own = useOwnRedisServer();
  let t: TestApp | undefined;

  afterEach(async () => {
    own.server.resume();
    await t?.close();
    t = undefined;
  });
  afterAll(async () => {
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
    contextManager.disable();
  });

  it('counts and traces a scripted run exactly, with no user id or session id on any of it', async () => {
    spans.reset();
    t = await createTestApp(
      { appName: 'otel', redis: own.server.url, nearCache: true, operationTimeoutMs: TIMEOUT_MS },
      { beforeInit: requestSpans },
    );
    const tenant = { 'tenant_session.tenant': 'acme', 'tenant_session.deployment': 'default' };
    const before = await collect();
    expect(total(before, 'tenant_session.logins')).toBe(0);

    // Three logins; the third signs out.
    const phone = new Visitor(t.http, 'acme.test', 'phone');
    const laptop = new Visitor(t.http, 'acme.test', 'laptop');
    const kiosk = new Visitor(t.http, 'acme.test', 'kiosk');
    expect((await phone.post('/login', { user: ALICE })).status).toBe(201);
    expect((await laptop.post('/login', { user: ALICE })).status).toBe(201);
    expect((await kiosk.post('/login', { user: BOB })).status).toBe(201);
    const sessionIds = [phone.sessionId()!, laptop.sessionId()!, kiosk.sessionId()!];
    expect((await kiosk.post('/logout')).status).toBe(201);

    // Reads: each login cached its session as written, so these are hits.
    expect((await phone.get('/me')).status).toBe(200);
    expect((await phone.get('/me')).status).toBe(200);
    // Another client changes the phone's session: Redis invalidates it, the next read misses.
    // (Redis 7.0 also reports keys the module's own scripts change, hence the count before.)
    const invalidations = async () =>
      total(await collect(), 'tenant_session.near_cache.invalidations', {
        'tenant_session.deployment': 'default',
      });
    const invalidatedBefore = await invalidations();
    const key = `sessions:acme:otel:${sessionIds[0]}`;
    await own.redis.set(key, (await own.redis.get(key))!, 'KEEPTTL');
    await pollUntil(
      async () => (await invalidations()) === invalidatedBefore + 1,
      5000,
      'the invalidation was not counted',
    );
    expect((await phone.get('/me')).status).toBe(200);

    // A forged request: refused before Redis.
    const forged = await request(t.http)
      .post('/increment')
      .set('Host', 'acme.test')
      .set('Origin', 'https://evil.example')
      .set('Cookie', phone.cookieHeader);
    expect(forged.status).toBe(403);

    // The laptop signs out the other devices while the phone's write is in flight: 401.
    const inFlight = phone.post('/increment?delayMs=500');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect((await laptop.post('/sessions/revoke-others')).body).toEqual({ revoked: 1 });
    expect((await inFlight).status).toBe(401);

    // Redis frozen: once the near cache knows it, each read is a 503.
    own.server.pause();
    const { backend } = await t.registry.get('acme');
    const keys = backend.keys as unknown as { cachedSessions: number };
    await pollUntil(async () => keys.cachedSessions === 0, 5000, 'the near cache kept entries');
    expect((await laptop.get('/me')).status).toBe(503);
    expect((await laptop.get('/me')).status).toBe(503);
    own.server.resume();

    const all = await collect();
    expect(total(all, 'tenant_session.logins', tenant)).toBe(3);
    expect(total(all, 'tenant_session.logouts', tenant)).toBe(1);
    expect(
      total(all, 'tenant_session.revocations', {
        ...tenant,
        'tenant_session.revocation.reason': 'others',
      }),
    ).toBe(1);
    expect(total(all, 'tenant_session.revocations')).toBe(1);
    expect(total(all, 'tenant_session.revoked_sessions', tenant)).toBe(1);
    const refusals = (status: number, code: string) =>
      total(all, 'tenant_session.refusals', {
        ...tenant,
        'http.response.status_code': status,
        'tenant_session.refusal.code': code,
      });
    expect(refusals(403, 'CSRF_REJECTED')).toBe(1);
    expect(refusals(401, 'SESSION_REVOKED')).toBe(1);
    expect(refusals(503, 'SESSION_STORE_UNAVAILABLE')).toBe(2);
    expect(total(all, 'tenant_session.refusals')).toBe(4);
    // Reads that restart the TTL go through the near cache: hits are sessions this process
    // wrote (the logins) or read, misses the invalidated one and the two while Redis was frozen.
    expect(total(all, 'tenant_session.near_cache.hits', tenant)).toBe(5);
    expect(total(all, 'tenant_session.near_cache.misses', tenant)).toBe(3);
    // Every request that got past loading its session: not the forged one nor the two 503s.
    expect(total(all, 'tenant_session.request.session_work.duration', tenant)).toBe(9);
    const redis = (operation: string, errorType?: string) =>
      total(all, 'tenant_session.redis.duration', {
        ...tenant,
        'db.system': 'redis',
        'db.operation.name': operation,
        'error.type': errorType,
      });
    // Each login reads its visit's session (never stored: nothing to end), admits, writes and
    // confirms; the logout unindexes its session, then deletes it (from the value its request
    // loaded: no read); the 401 request's write found its session gone.
    expect(redis('session.inspect')).toBe(3);
    expect(redis('session.discard')).toBe(1);
    expect(redis('index.admit')).toBe(3);
    expect(redis('session.write')).toBe(4);
    expect(redis('index.confirm')).toBe(3);
    expect(redis('index.unindex')).toBe(2);
    expect(redis('index.entries')).toBe(1);
    expect(redis('session.remove')).toBe(1);
    expect(redis('session.read')).toBe(1);
    expect(redis('session.read', 'SESSION_STORE_UNAVAILABLE')).toBe(2);
    expect(
      total(all, 'tenant_session.redis.duration', { 'error.type': 'SESSION_STORE_UNAVAILABLE' }),
    ).toBe(2);

    // Spans: each login a child of its request's span, each round trip a child of the span
    // active when it was sent (the login's, the revocation's or the request's).
    const finished = spans.getFinishedSpans();
    const byId = new Map(finished.map((span) => [idOf(span), span]));
    const logins = finished.filter((span) => span.name === 'tenant_session.login');
    expect(logins).toHaveLength(3);
    for (const login of logins) {
      expect(byId.get(parentOf(login)!)?.name).toBe('POST /login');
      expect(login.attributes).toEqual(tenant);
      const trips = finished.filter((span) => parentOf(span) === idOf(login));
      expect(trips.map((span) => span.name)).toEqual(
        expect.arrayContaining(['redis index.admit', 'redis session.write', 'redis index.confirm']),
      );
      for (const trip of trips) {
        expect(trip.kind).toBe(SpanKind.CLIENT);
        expect(trip.attributes).toMatchObject({ ...tenant, 'db.system': 'redis' });
      }
    }
    const [revocation] = finished.filter((span) => span.name === 'tenant_session.revocation');
    expect(byId.get(parentOf(revocation)!)?.name).toBe('POST /sessions/revoke-others');
    expect(revocation.attributes).toEqual({
      ...tenant,
      'tenant_session.revocation.reason': 'others',
    });
    expect(
      finished.filter((span) => parentOf(span) === idOf(revocation)).map((span) => span.name),
    ).toEqual(['redis index.entries', 'redis session.remove', 'redis index.unindex']);
    const failed = finished.filter((span) => span.attributes['error.type'] !== undefined);
    expect(failed.map((span) => [span.name, byId.get(parentOf(span)!)?.name])).toEqual([
      ['redis session.read', 'GET /me'],
      ['redis session.read', 'GET /me'],
    ]);
    for (const span of finished.filter((span) => span.name.startsWith('redis '))) {
      expect(byId.get(parentOf(span)!)).toBeDefined();
    }

    // Nothing names a user or a session.
    const values = [
      ...finished.flatMap((span) => Object.values(span.attributes)),
      ...all.flatMap((metric) =>
        (metric.dataPoints as DataPoint<unknown>[]).flatMap((p) => Object.values(p.attributes)),
      ),
    ].map(String);
    expect(values.length).toBeGreaterThan(0);
    for (const secret of [ALICE, BOB, ...sessionIds]) {
      expect(values.filter((value) => value.includes(secret))).toEqual([]);
    }
  });

  it('leaves the tenant out with telemetry.tenantAttribute false, keeping the deployment', async () => {
    t = await createTestApp(
      {
        appName: 'otel-no-tenant',
        redis: own.server.url,
        telemetry: { tenantAttribute: false },
      },
      { beforeInit: requestSpans },
    );
    spans.reset();
    const visitor = new Visitor(t.http, 'globex.test');
    expect((await visitor.post('/login', { user: ALICE })).status).toBe(201);

    const logins = points(await collect(), 'tenant_session.logins', {
      'tenant_session.tenant': undefined,
    });
    expect(logins.map((point) => [point.attributes, point.value])).toEqual([
      [{ 'tenant_session.deployment': 'default' }, 1],
    ]);
    const login = spans.getFinishedSpans().find((span) => span.name === 'tenant_session.login');
    expect(login?.attributes).toEqual({ 'tenant_session.deployment': 'default' });
  });
});
