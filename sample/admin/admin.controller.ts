import { Controller, ForbiddenException, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import {
  RequireRecentLogin,
  SessionAuthGuard,
  SessionRevocationService,
  SessionUserId,
  Tenant,
} from 'nestjs-tenant-session';
import { UserDirectory } from '../auth/user-directory.service.js';

@Controller('admin')
@UseGuards(SessionAuthGuard)
export class AdminController {
  constructor(
    private readonly sessions: SessionRevocationService,
    private readonly users: UserDirectory,
  ) {}

  /** Signs a user out everywhere in this tenant (a stolen laptop, a leaver). */
  @Post('users/:userId/revoke')
  @HttpCode(200)
  @RequireRecentLogin()
  async revokeUser(
    @Tenant() tenant: string,
    @SessionUserId() adminId: string,
    @Param('userId') userId: string,
  ) {
    // The role is read from the directory on every call, never trusted from the session, so
    // taking the role away takes effect at once.
    if (!this.users.find(tenant, adminId)?.admin) {
      throw new ForbiddenException('Admins only');
    }
    return { revoked: await this.sessions.revokeAll(tenant, userId) };
  }
}
