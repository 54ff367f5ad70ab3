import type { INestApplication, LoggerService } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { createSampleApp } from '../../sample/sample-app.js';
import type { SampleEnv } from '../../sample/sample-config.js';
import { BUDGET_UNDER_LOAD_MS } from './test-app.js';
import { testPlatform } from './testing-app.js';

export const SAMPLE_SECRET = 'sample-test-secret-0123456789abcdef';

export interface RunningSample {
  app: INestApplication;
  http: ReturnType<INestApplication['getHttpServer']>;
  /**
   * The `<app>` key part: random per sample, so samples sharing the test Redis never meet, even
   * across test files run one after another in the same jest worker.
   */
  appName: string;
  close(): Promise<void>;
}

/**
 * The sample app as `npm run sample` builds it, from env-like settings, on the test Redis, on the
 * suite's platform (`HTTP_PLATFORM` from testPlatform(): Fastify in the fastify Jest project).
 * `listen: true` serves it on a real loopback port (for a browser), on `host` (default
 * `127.0.0.1`; `::ffff:127.0.0.1` is loopback on a dual-stack socket, whose IPv4 clients
 * Node gives as IPv4-mapped IPv6 addresses). Logs are off (TEST_LOGS=1 shows them) unless a
 * `logger` is given to capture them.
 */
export async function startSample(
  env: SampleEnv = {},
  {
    listen = false,
    host = '127.0.0.1',
    logger,
  }: { listen?: boolean; host?: string; logger?: LoggerService } = {},
): Promise<RunningSample> {
  const appName = `sample-${randomBytes(6).toString('hex')}`;
  const app = await createSampleApp(
    {
      REDIS_URL: process.env.TEST_REDIS_URL,
      SESSION_SECRET: SAMPLE_SECRET,
      APP_NAME: appName,
      HTTP_PLATFORM: testPlatform(),
      REDIS_TIMEOUT_MS: String(BUDGET_UNDER_LOAD_MS),
      ...env,
    },
    { logger: logger ?? (process.env.TEST_LOGS ? undefined : false) },
  );
  if (listen) await app.listen(0, host);
  else {
    await app.init();
    // Fastify routes requests once ready: listen() waits for it, init() does not.
    if (app.getHttpAdapter().getType() === 'fastify') {
      await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
    }
  }
  return { app, http: app.getHttpServer(), appName, close: () => app.close() };
}
