// The second instance for the WebSocket suite: the library as built (dist/), in a Nest app
// written without TypeScript decorators, listening on a loopback port it prints as one line of
// JSON, `{"port":N}`. It signs users in and out and revokes them over HTTP, as ws-app.ts does in
// the test process, so a socket there can be ended from here. Settings arrive as JSON in
// argv[2]: { redis, appName, secret, hosts, operationTimeoutMs, idleTtl, platform }. Started through
// fault-app-process.ts (`script: 'ws-app-process.mjs'`).

// First: it loads reflect-metadata before any decorator runs.
import { injectSessionServices, listenWithController, settings } from './child-app.mjs';
import { Body, Controller, Get, Post, Req, Res } from '@nestjs/common';
import { getRequestTenant } from '../../dist/index.js';

const callback = (run) =>
  new Promise((resolve, reject) => run((err) => (err ? reject(err) : resolve())));

class AppController {
  /**
   * @param {SessionLoginService} logins
   * @param {SessionRevocationService} sessions
   */
  constructor(logins, sessions) {
    this.logins = logins;
    this.sessions = sessions;
  }

  /** POST /login {user}: the library's login. */
  async login(req, _res, body) {
    await this.logins.login(req, body.user, { data: { user: body.user } });
    return { user: body.user };
  }

  /** POST /logout: the library's logout. */
  async logout(req, res) {
    await this.logins.logout(req, res);
    return { ok: true };
  }

  /** POST /passport-login {user}: what passport's `req.logIn` does to the session. */
  async passportLogin(req, _res, body) {
    await callback((done) => req.session.regenerate(done));
    req.session.passport = { user: body.user };
    return { user: body.user };
  }

  /** POST /passport-logout: what passport 0.7's `req.logout` does to the session. */
  async passportLogout(req) {
    delete req.session.passport?.user;
    await callback((done) => req.session.save(done));
    await callback((done) => req.session.regenerate(done));
    return { ok: true };
  }

  /** POST /revoke-all {user}: signs the user out everywhere in this request's tenant. */
  async revokeAll(req, _res, body) {
    return { revoked: await this.sessions.revokeAll(getRequestTenant(req), body.user) };
  }

  /** POST /revoke-others: signs this request's user out everywhere else. */
  async revokeOthers(req) {
    return { revoked: await this.sessions.revokeOthers(req) };
  }

  /** POST /revoke-tenant: signs everyone out of this request's tenant (off-boarding). */
  async revokeTenant(req) {
    return { revoked: await this.sessions.revokeTenant(getRequestTenant(req)) };
  }

  /** GET /me: uses the session (its TTL restarts, as on any request). */
  async me(req) {
    return { userId: this.logins.userId(req) ?? null };
  }
}

injectSessionServices(AppController);
const proto = AppController.prototype;
for (const [method, verb, path] of [
  ['login', Post, 'login'],
  ['logout', Post, 'logout'],
  ['passportLogin', Post, 'passport-login'],
  ['passportLogout', Post, 'passport-logout'],
  ['revokeAll', Post, 'revoke-all'],
  ['revokeOthers', Post, 'revoke-others'],
  ['revokeTenant', Post, 'revoke-tenant'],
  ['me', Get, 'me'],
]) {
  verb(path)(proto, method, Object.getOwnPropertyDescriptor(proto, method));
  Req()(proto, method, 0);
  Res({ passthrough: true })(proto, method, 1);
  Body()(proto, method, 2);
}
Controller()(AppController);

await listenWithController(AppController, { idleTtl: settings.idleTtl });
