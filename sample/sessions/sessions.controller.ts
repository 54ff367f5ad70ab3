import {
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Query,
  Req,
  UseGuards,
} from '@nestjs/common';
import type { Request } from 'express';
import {
  RequireRecentLogin,
  SessionAuthGuard,
  SessionRevocationService,
  SessionUserId,
  Tenant,
} from 'nestjs-tenant-session';

/**
 * "Where am I signed in?": the user's own sessions, and signing them out, which asks for a
 * recent login (`RECENT_LOGIN_MAX_AGE`): whoever found an unlocked laptop cannot sign the owner
 * out of their other devices.
 */
@Controller('sessions')
@UseGuards(SessionAuthGuard)
export class SessionsController {
  constructor(private readonly sessions: SessionRevocationService) {}

  /**
   * A page of the user's sessions: `?limit=` (1 to 1,000, default 100) and `?cursor=` (the `next`
   * of the previous page); an unusable one is a 400 (`INVALID_SESSION_PAGE`).
   */
  @Get()
  async list(
    @Req() req: Request,
    @Query('limit') limit?: string,
    @Query('cursor') cursor?: string,
  ) {
    const page = await this.sessions.listMine(req, {
      limit: limit === undefined ? undefined : Number(limit),
      cursor,
    });
    return { sessions: page.sessions, total: page.total, next: page.nextCursor };
  }

  /** `id` is the handle from the listing; a user can only reach handles of their own sessions. */
  @Delete(':id')
  @RequireRecentLogin()
  async revoke(@Tenant() tenant: string, @SessionUserId() userId: string, @Param('id') id: string) {
    const revoked = await this.sessions.revoke(tenant, userId, id);
    if (revoked === 0) throw new NotFoundException('No such session');
    return { revoked };
  }

  @Post('revoke-others')
  @HttpCode(200)
  @RequireRecentLogin()
  async revokeOthers(@Req() req: Request) {
    return { revoked: await this.sessions.revokeOthers(req) };
  }
}
