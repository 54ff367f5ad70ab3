import {
  BadRequestException,
  Controller,
  Get,
  HttpCode,
  Post,
  Query,
  Req,
  UseGuards,
} from '@nestjs/common';
import type { Request } from 'express';
import type { SessionData } from 'express-session';
import { Session, SessionAuthGuard, Tenant } from 'nestjs-tenant-session';
import '../session-data.js';

const MAX_DELAY_MS = 5000;

/** The logged-in user's own data, and the per-session counter. */
@Controller()
@UseGuards(SessionAuthGuard)
export class AccountController {
  @Get('me')
  me(
    @Session('user') user: SessionData['user'],
    @Session('count') count: SessionData['count'],
    @Tenant() tenant: string,
  ) {
    return { user, tenant, count: count ?? 0 };
  }

  /**
   * `?delayMs=` stands for a slow backend call made before the session changes. If the session
   * is revoked meanwhile, the module does not write it back: the revocation holds.
   */
  @Post('increment')
  @HttpCode(200)
  async increment(@Req() req: Request, @Query('delayMs') delayMs?: string) {
    const delay = parseDelay(delayMs);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    req.session.count = (req.session.count ?? 0) + 1;
    return { count: req.session.count };
  }
}

function parseDelay(raw: string | undefined): number {
  if (raw === undefined) return 0;
  const delay = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(delay <= MAX_DELAY_MS)) {
    throw new BadRequestException(`delayMs must be an integer from 0 to ${MAX_DELAY_MS}`);
  }
  return delay;
}
