// A second app process, for tests that kill an app between two steps of an operation: the
// library as built (dist/), in a tiny Nest app written without TypeScript decorators, listening
// on a loopback port it prints as one line of JSON, `{"port":N}`. Settings arrive as JSON in
// argv[2]: { redis, appName, secret, hosts, operationTimeoutMs }. Started by
// fault-app-process.ts (not "app-process.ts": jest would resolve that import to this file).

// First: it loads reflect-metadata before any decorator runs.
import { injectSessionServices, listenWithController } from './child-app.mjs';
import { Body, Controller, Post, Req } from '@nestjs/common';
import { getRequestTenant } from '../../dist/index.js';

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

  /** POST /logout: the library's logout, as test-app.ts does it. */
  async logout(req) {
    await this.logins.logout(req);
    return { ok: true };
  }

  /** POST /revoke-all {user}: signs the user out everywhere in this request's tenant. */
  async revokeAll(req, body) {
    return { revoked: await this.sessions.revokeAll(getRequestTenant(req), body.user) };
  }
}

injectSessionServices(AppController);
const proto = AppController.prototype;
for (const [method, path] of [
  ['login', 'login'],
  ['logout', 'logout'],
  ['revokeAll', 'revoke-all'],
]) {
  Post(path)(proto, method, Object.getOwnPropertyDescriptor(proto, method));
  Req()(proto, method, 0);
  Body()(proto, method, 1);
}
Controller()(AppController);

await listenWithController(AppController);
