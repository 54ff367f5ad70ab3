import type { LoggerService } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { TestingModule } from '@nestjs/testing';

/** A compiled testing module, running: what every test app hands its suite. */
export interface RunningTestingApp {
  app: NestExpressApplication;
  http: ReturnType<NestExpressApplication['getHttpServer']>;
  /** Closes the app once, however often it is called (suites close in afterEach and finally). */
  close(): Promise<void>;
}

/**
 * Creates and initialises the app of a testing module. Logs are off (TEST_LOGS=1 shows them)
 * unless a `logger` is given to capture them; `beforeInit` adds Express middleware first.
 */
export async function startTestingApp(
  moduleRef: TestingModule,
  {
    logger,
    beforeInit,
  }: { logger?: LoggerService; beforeInit?: (app: NestExpressApplication) => void } = {},
): Promise<RunningTestingApp> {
  const app = moduleRef.createNestApplication<NestExpressApplication>({
    logger: logger ?? (process.env.TEST_LOGS ? undefined : false),
  });
  beforeInit?.(app);
  await app.init();
  let closing: Promise<void> | undefined;
  return { app, http: app.getHttpServer(), close: () => (closing ??= app.close()) };
}
