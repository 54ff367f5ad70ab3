import {
  Body,
  Controller,
  ForbiddenException,
  HttpCode,
  Post,
  Req,
  UseGuards,
} from '@nestjs/common';
import type { Request } from 'express';
import {
  SessionAuthGuard,
  SessionLoginService,
  SessionRevocationService,
  SessionUserId,
  Tenant,
} from 'nestjs-tenant-session';
import { stringField } from '../http/request-body.js';
import '../session-data.js';
import { PasswordAttemptsGuard } from '../throttling/password-attempts.guard.js';
import { LocalAuthGuard } from './local-auth.guard.js';
import { UserDirectory, type SampleUser } from './user-directory.service.js';

const MIN_PASSWORD_LENGTH = 8;

@Controller('auth')
export class AuthController {
  constructor(
    private readonly logins: SessionLoginService,
    private readonly sessions: SessionRevocationService,
    private readonly users: UserDirectory,
  ) {}

  /**
   * LocalAuthGuard checked the password and logged the user in through passport: a new session
   * id, holding the username (`session.passport.user`), which the module indexes the session
   * under. The sample's own fields go in next, stored before the answer leaves.
   */
  @Post('login')
  @HttpCode(200)
  @UseGuards(PasswordAttemptsGuard, LocalAuthGuard)
  login(@Req() req: Request, @Tenant() tenant: string) {
    const user = req.user as SampleUser;
    req.session.user = user.username;
    req.session.count = 0;
    return { user: user.username, tenant };
  }

  /** Ends the session whoever logged it in (passport's login lives in it too). */
  @Post('logout')
  @HttpCode(200)
  async logout(@Req() req: Request) {
    await this.logins.logout(req);
    return { loggedOut: true };
  }

  /** A new password signs out every other device: whoever knew the old one is out too. */
  @Post('password')
  @HttpCode(200)
  @UseGuards(SessionAuthGuard, PasswordAttemptsGuard)
  async changePassword(
    @Req() req: Request,
    @Tenant() tenant: string,
    @SessionUserId() userId: string,
    @Body() body: unknown,
  ) {
    const currentPassword = stringField(body, 'currentPassword');
    const newPassword = stringField(body, 'newPassword', MIN_PASSWORD_LENGTH);
    if (!(await this.users.authenticate(tenant, userId, currentPassword))) {
      throw new ForbiddenException('Current password is wrong');
    }
    await this.users.setPassword(tenant, userId, newPassword);
    // The current password was just checked: that counts as a recent login.
    await this.logins.reauthenticated(req);
    return { revoked: await this.sessions.revokeOthers(req) };
  }

  /**
   * Step-up: the password checked again before a sensitive action (the routes marked
   * `@RequireRecentLogin()` answer 401 `RECENT_LOGIN_REQUIRED` when the login is too old).
   * Same session, same id; a wrong password is 403.
   */
  @Post('reauthenticate')
  @HttpCode(200)
  @UseGuards(SessionAuthGuard, PasswordAttemptsGuard)
  async reauthenticate(
    @Req() req: Request,
    @Tenant() tenant: string,
    @SessionUserId() userId: string,
    @Body() body: unknown,
  ) {
    if (!(await this.users.authenticate(tenant, userId, stringField(body, 'password')))) {
      throw new ForbiddenException('Password is wrong');
    }
    return { reauthenticatedAt: await this.logins.reauthenticated(req) };
  }
}
