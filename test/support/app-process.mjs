// A second app process, for tests that kill an app between two steps of an operation: the
// library as built (dist/), in a tiny Nest app written without TypeScript decorators, listening
// on a loopback port it prints as one line of JSON, `{"port":N}`. Settings arrive as JSON in
// argv[2]: { redis, appName, secret, hosts, operationTimeoutMs }. Started by
// fault-app-process.ts (not "app-process.ts": jest would resolve that import to this file).
import 'reflect-metadata';
import { Body, Controller, Inject, Module, Post, Req } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  SessionLoginService,
  SessionRevocationService,
  TenantSessionModule,
  getRequestTenant,
} from '../../dist/index.js';

const settings = JSON.parse(process.argv[2] ?? '{}');

class AppController {
  /**
   * @param {SessionLoginService} logins
   * @param {SessionRevocationService} sessions
   */
  constructor(logins, sessions) {
    this.logins = logins;
    this.sessions = sessions;
  }

  /** POST /login {user}: the library's login, as test-app.ts does it. */
  async login(req, body) {
    await this.logins.login(req, body.user, { data: { user: body.user } });
    return { user: body.user };
  }

  /** POST /revoke-all {user}: signs the user out everywhere in this request's tenant. */
  async revokeAll(req, body) {
    return { revoked: await this.sessions.revokeAll(getRequestTenant(req), body.user) };
  }
}

Inject(SessionLoginService)(AppController, undefined, 0);
Inject(SessionRevocationService)(AppController, undefined, 1);
const proto = AppController.prototype;
for (const [method, path] of [
  ['login', 'login'],
  ['revokeAll', 'revoke-all'],
]) {
  Post(path)(proto, method, Object.getOwnPropertyDescriptor(proto, method));
  Req()(proto, method, 0);
  Body()(proto, method, 1);
}
Controller()(AppController);

class AppModule {}
Module({
  imports: [
    TenantSessionModule.forRoot({
      tenant: { byHost: settings.hosts },
      secret: settings.secret,
      redis: settings.redis,
      appName: settings.appName,
      operationTimeoutMs: settings.operationTimeoutMs,
    }),
  ],
  controllers: [AppController],
})(AppModule);

const app = await NestFactory.create(AppModule, { logger: false });
await app.listen(0, '127.0.0.1');
process.stdout.write(`${JSON.stringify({ port: app.getHttpServer().address().port })}\n`);
