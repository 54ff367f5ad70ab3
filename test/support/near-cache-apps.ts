import { performance } from 'node:perf_hooks';
import { createTestApp, type TestApp } from './test-app.js';
import { Visitor } from './visitor.js';

type AppOptions = Partial<Parameters<typeof createTestApp>[0]>;

/** The app name the near-cache suites give their apps: their session keys live under it. */
const APP_NAME = 'near';
/** The apps' operationTimeoutMs, and so the invalidation connections' heartbeat. */
export const TIMEOUT_MS = 500;
/** Longest wait for a loopback message (an invalidation, a reconnect) on a busy machine. */
export const SETTLE_MS = 300;

/**
 * Apps with the near cache on, as the near-cache suites start them (one Redis or a Cluster):
 * `start` makes one on the Redis `redis()` names, `closeAll` ends those started so far.
 */
export function nearCacheApps(redis: () => AppOptions['redis']) {
  const apps: TestApp[] = [];
  return {
    start: async (options: AppOptions = {}) => {
      const app = await createTestApp({
        appName: APP_NAME,
        redis: redis(),
        nearCache: true,
        operationTimeoutMs: TIMEOUT_MS,
        ...options,
      });
      apps.push(app);
      return app;
    },
    closeAll: () => Promise.all(apps.splice(0).map((app) => app.close())),
  };
}

export async function loginAs(app: TestApp, user: string): Promise<Visitor> {
  const visitor = new Visitor(app.http, 'acme.test');
  expect((await visitor.post('/login', { user })).status).toBe(201);
  return visitor;
}

/** The Redis key of a visitor's session on the near-cache suites' apps. */
export const sessionKeyOf = (visitor: Visitor) =>
  `sessions:acme:${APP_NAME}:${visitor.sessionId()}`;

/**
 * Asks for the session for `settleMs` after its user was revoked on another instance: at most
 * the requests that beat the invalidation message across loopback are served, then never again.
 */
export async function expectRevokedWithin(visitor: Visitor, settleMs: number): Promise<void> {
  const answers: number[] = [];
  const started = performance.now();
  while (performance.now() - started < settleMs) {
    answers.push((await visitor.get('/me')).status);
  }
  const first401 = answers.indexOf(401);
  expect(first401).toBeGreaterThanOrEqual(0);
  expect(answers.slice(first401).every((status) => status === 401)).toBe(true);
}

/**
 * Polls (bounded) until the visitor is served the session with `count`, after a failover: 503s
 * while the app finds the new primary, never another count (what a cache kept from before).
 */
export async function expectServedAfterFailover(visitor: Visitor, count: number): Promise<void> {
  let served: unknown;
  for (let i = 0; i < 200 && served !== count; i++) {
    const reply = await visitor.get('/me');
    if (reply.status === 200) served = reply.body.count;
    expect(served === undefined || served === count).toBe(true);
    if (served !== count) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(served).toBe(count);
}
