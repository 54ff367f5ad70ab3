// What the child app scripts (app-process.mjs, ws-app-process.mjs) share: their settings, given
// as JSON in argv[2], and the start of a Nest app around one controller, with the library as
// built (dist/), on Express or (`settings.platform: 'fastify'`) Fastify, listening on a loopback
// port it prints as one line of JSON, `{"port":N}`.
import 'reflect-metadata';
import { Inject, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  SessionLoginService,
  SessionRevocationService,
  TenantSessionModule,
} from '../../dist/index.js';

export const settings = JSON.parse(process.argv[2] ?? '{}');

/** Injects the login service as the controller's first argument, the revocation one second. */
export function injectSessionServices(controller) {
  Inject(SessionLoginService)(controller, undefined, 0);
  Inject(SessionRevocationService)(controller, undefined, 1);
}

/**
 * Starts the app (the module from `settings`, plus `options`) and prints its port.
 * @param {Function} controller
 * @param {object} [options] more module options
 */
export async function listenWithController(controller, options = {}) {
  class AppModule {}
  Module({
    imports: [
      TenantSessionModule.forRoot({
        tenant: { byHost: settings.hosts },
        secret: settings.secret,
        redis: settings.redis,
        appName: settings.appName,
        operationTimeoutMs: settings.operationTimeoutMs,
        ...options,
      }),
    ],
    controllers: [controller],
  })(AppModule);

  const app =
    settings.platform === 'fastify'
      ? await NestFactory.create(AppModule, new FastifyAdapter(), { logger: false })
      : await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  process.stdout.write(`${JSON.stringify({ port: app.getHttpServer().address().port })}\n`);
}
