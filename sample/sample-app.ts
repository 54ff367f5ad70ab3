import { Logger, type NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { TenantSessionIoAdapter } from 'nestjs-tenant-session/socket.io';
import { AppModule } from './app.module.js';
import { ServerErrorFilter } from './http/server-error.filter.js';
import { loadSampleConfig, type SampleEnv } from './sample-config.js';

/**
 * Builds the sample from environment variables (see sample-config.ts) without listening, so
 * tests can run it in-process; `main.ts` adds the port.
 */
export async function createSampleApp(
  env: SampleEnv,
  options: NestApplicationOptions = {},
): Promise<NestExpressApplication> {
  const config = loadSampleConfig(env);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config), options);
  // Behind a TLS-terminating proxy: HTTPS as the proxy says (Secure cookies), the client's address.
  app.set('trust proxy', config.trustProxy);
  // Tells attackers nothing about the stack.
  app.disable('x-powered-by');
  // HTTP only (gateways keep theirs): a 500 is logged without request data.
  app.useGlobalFilters(new ServerErrorFilter(app.getHttpAdapter()));
  // socket.io with each socket's tenant and session, and live sign-out (live/session.gateway.ts).
  app.useWebSocketAdapter(new TenantSessionIoAdapter(app));
  const logger = new Logger('Sample');
  for (const warning of config.warnings) logger.warn(warning);
  return app;
}
