import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { getRequestTenant } from 'nestjs-tenant-session';
import passport from 'passport';
import { UserDirectory, type SampleUser } from './user-directory.service.js';

/**
 * What passport keeps of a user in the session, and how it finds the user again.
 *
 * Into the session: the username, as `session.passport.user`. That is the id the module indexes
 * the session under, so the session list, "sign out other devices" and the admin's revocation
 * find passport logins with no glue.
 *
 * Back out, on every request: passport.session() (which the module runs right after loading the
 * tenant's session: `afterSession` in app.module.ts) looks the username up in the request's
 * tenant. A user no longer there is `false`: passport drops `passport.user`, the module
 * unindexes the session, and SessionAuthGuard answers 401.
 *
 * Users live per tenant, and PassportSerializer's `deserializeUser(id, done)` is not given the
 * request; passport's "session" strategy is. So this class is that strategy (replacing
 * passport's default one) rather than a PassportSerializer.
 */
@Injectable()
export class SessionSerializer extends PassportStrategy(
  passport.strategies.SessionStrategy,
  'session',
) {
  constructor(private readonly users: UserDirectory) {
    super();
    // Process-wide in passport, and the same for every app: registering it again is harmless.
    passport.serializeUser<string>((user, done) => done(null, (user as SampleUser).username));
  }

  validate(username: unknown, req: Request): SampleUser | false {
    const tenant = getRequestTenant(req);
    const user =
      typeof username === 'string' && tenant !== undefined && this.users.find(tenant, username);
    return user || false;
  }
}
