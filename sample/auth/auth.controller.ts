import {
  Body,
  Controller,
  ForbiddenException,
  HttpCode,
  Post,
  Req,
  Res,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import {
  SessionAuthGuard,
  SessionLoginService,
  SessionRevocationService,
  SessionUserId,
  Tenant,
} from 'nestjs-tenant-session';
import { stringField } from '../http/request-body.js';
import '../session-data.js';
import { UserDirectory } from './user-directory.service.js';

const MIN_PASSWORD_LENGTH = 8;

@Controller('auth')
export class AuthController {
  constructor(
    private readonly logins: SessionLoginService,
    private readonly sessions: SessionRevocationService,
    private readonly users: UserDirectory,
  ) {}

  /** Checks the password, then `login()` gives the visitor a new session id bound to the user. */
  @Post('login')
  @HttpCode(200)
  async login(@Req() req: Request, @Tenant() tenant: string, @Body() body: unknown) {
    const username = stringField(body, 'username');
    const password = stringField(body, 'password');
    const user = await this.users.authenticate(tenant, username, password);
    if (!user) throw new UnauthorizedException('Wrong username or password');
    await this.logins.login(req, user.username, { data: { user: user.username, count: 0 } });
    return { user: user.username, tenant };
  }

  @Post('logout')
  @HttpCode(200)
  async logout(@Req() req: Request, @Res({ passthrough: true }) res: Response) {
    await this.logins.logout(req, res);
    return { loggedOut: true };
  }

  /** A new password signs out every other device: whoever knew the old one is out too. */
  @Post('password')
  @HttpCode(200)
  @UseGuards(SessionAuthGuard)
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
    return { revoked: await this.sessions.revokeOthers(req) };
  }
}
