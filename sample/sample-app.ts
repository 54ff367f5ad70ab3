import { Logger, type INestApplication, type NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { maxHeaderSize } from 'node:http';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { TenantSessionIoAdapter } from 'nestjs-tenant-session/socket.io';
import { AppModule } from './app.module.js';
import { parseJsonAsExpressDoes } from './http/fastify-json-body.js';
import { ServerErrorFilter } from './http/server-error.filter.js';
import { loadSampleConfig, type SampleConfig, type SampleEnv } from './sample-config.js';

/** Express's default JSON body limit (body-parser's 100 kB), kept on Fastify. */
const BODY_LIMIT_BYTES = 100 * 1024;

/**
 * Builds the sample from environment variables (see sample-config.ts) without listening, so
 * tests can run it in-process; `main.ts` adds the port. `HTTP_PLATFORM` picks Express or Fastify.
 */
export async function createSampleApp(
  env: SampleEnv,
  options: NestApplicationOptions = {},
): Promise<INestApplication> {
  const config = loadSampleConfig(env);
  const app = await createOnPlatform(config, options);
  // HTTP only (gateways keep theirs): a 500 is logged without request data.
  app.useGlobalFilters(new ServerErrorFilter(app.getHttpAdapter()));
  // socket.io with each socket's tenant and session, and live sign-out (live/session.gateway.ts).
  app.useWebSocketAdapter(new TenantSessionIoAdapter(app));
  const logger = new Logger('Sample');
  for (const warning of config.warnings) logger.warn(warning);
  return app;
}

/**
 * The app on `config.httpPlatform`, answering alike on both. Behind a TLS-terminating proxy,
 * both believe the proxies `TRUST_PROXY` names (HTTPS for Secure cookies, the client's address),
 * reading its values with the same library (proxy-addr). Neither says what it runs on: Express's
 * X-Powered-By is off, Fastify sends none. Fastify's own limits are set to Express's: path
 * parameters as long as Node lets a URL be (not 100 characters, so a 300-character user id is
 * the app's 400, not a 414), JSON bodies up to 100 kB, an empty one read as `{}`.
 */
async function createOnPlatform(
  config: SampleConfig,
  options: NestApplicationOptions,
): Promise<INestApplication> {
  const module = AppModule.register(config);
  if (config.httpPlatform === 'fastify') {
    const adapter = new FastifyAdapter({
      // A number (hops) is refused on Fastify by loadSampleConfig.
      trustProxy: config.trustProxy as boolean | string,
      bodyLimit: BODY_LIMIT_BYTES,
      routerOptions: { maxParamLength: maxHeaderSize },
    });
    const app = await NestFactory.create<NestFastifyApplication>(module, adapter, options);
    parseJsonAsExpressDoes(app, BODY_LIMIT_BYTES);
    return app;
  }
  const app = await NestFactory.create<NestExpressApplication>(module, options);
  app.set('trust proxy', config.trustProxy);
  app.disable('x-powered-by');
  return app;
}
