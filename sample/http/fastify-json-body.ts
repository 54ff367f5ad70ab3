import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Server } from 'node:http';

/**
 * JSON bodies on Fastify as on Express: an empty body sent as `application/json` (a POST that
 * only sets the type, as many clients do) is `{}`, as body-parser makes it, where Fastify's
 * parser answers 400; any other body goes to Fastify's own JSON parser (prototype-poisoning
 * checks included). Bodies are capped at `bodyLimit` bytes (413 beyond).
 */
export function parseJsonAsExpressDoes(app: NestFastifyApplication, bodyLimit: number): void {
  const parseJson = app.getHttpAdapter().getInstance().getDefaultJsonParser('error', 'error');
  app.useBodyParser<Server>('application/json', { bodyLimit }, (request, body, done) => {
    if (body.length === 0) done(null, {});
    else parseJson(request, body.toString('utf8'), done);
  });
}
