import type { LoggerService } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { TestingModule } from '@nestjs/testing';

/** The HTTP platforms the module binds to; a contract suite runs once on each. */
export type TestPlatform = 'express' | 'fastify';
export const PLATFORMS: readonly TestPlatform[] = ['express', 'fastify'];

/** The platform of the Jest project running the suite (`TEST_PLATFORM`, jest.config.js). */
export const testPlatform = (): TestPlatform =>
  (process.env.TEST_PLATFORM as TestPlatform | undefined) ?? 'express';

/** A compiled testing module, running: what every test app hands its suite. */
export interface RunningTestingApp {
  /**
   * The app. Typed as Express's, which most suites configure; on Fastify it is the Fastify
   * application, and only the members both share may be used.
   */
  app: NestExpressApplication;
  http: ReturnType<NestExpressApplication['getHttpServer']>;
  /** Closes the app once, however often it is called (suites close in afterEach and finally). */
  close(): Promise<void>;
}

/**
 * Which proxies the app believes (`X-Forwarded-*`): Express's `trust proxy`, Fastify's
 * `trustProxy`. Addresses (`'loopback'`), not a hop count: Fastify trusts no one for a number.
 */
export type TrustProxy = boolean | string;

/**
 * Creates and initialises the app of a testing module, on the Jest project's platform unless
 * `platform` says which. Logs are off (TEST_LOGS=1 shows them) unless a `logger` is given to
 * capture them; `trustProxy` is set the way each platform takes it (Fastify's only when it is
 * created); `beforeInit` adds middleware in front of the module's (`app.use`, which on Fastify
 * runs on the Node request through middie).
 */
export async function startTestingApp(
  moduleRef: TestingModule,
  {
    logger,
    beforeInit,
    platform = testPlatform(),
    trustProxy,
  }: {
    logger?: LoggerService;
    beforeInit?: (app: NestExpressApplication) => void;
    platform?: TestPlatform;
    trustProxy?: TrustProxy;
  } = {},
): Promise<RunningTestingApp> {
  const options = { logger: logger ?? (process.env.TEST_LOGS ? undefined : (false as const)) };
  if (platform === 'fastify') {
    const app = moduleRef.createNestApplication<NestFastifyApplication>(
      new FastifyAdapter({ trustProxy }),
      options,
    );
    beforeInit?.(app as unknown as NestExpressApplication);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    return running(app as unknown as NestExpressApplication);
  }
  const app = moduleRef.createNestApplication<NestExpressApplication>(options);
  if (trustProxy !== undefined) app.set('trust proxy', trustProxy);
  beforeInit?.(app);
  await app.init();
  return running(app);
}

function running(app: NestExpressApplication): RunningTestingApp {
  let closing: Promise<void> | undefined;
  return { app, http: app.getHttpServer(), close: () => (closing ??= app.close()) };
}
