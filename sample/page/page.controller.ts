import { Controller, Get, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { randomBytes } from 'node:crypto';
import { SessionLoginService, SessionRevocationService, Tenant } from 'nestjs-tenant-session';
import { UserDirectory } from '../auth/user-directory.service.js';
import '../session-data.js';
import { renderSessionPage } from './session-page.js';

/** `GET /`: the session panel, for anonymous visitors (login form) and logged-in users alike. */
@Controller()
export class PageController {
  constructor(
    private readonly logins: SessionLoginService,
    private readonly sessions: SessionRevocationService,
    private readonly users: UserDirectory,
  ) {}

  @Get()
  async page(
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @Tenant() tenant: string,
  ): Promise<string> {
    const nonce = randomBytes(16).toString('base64');
    res.set({
      'Content-Type': 'text/html; charset=utf-8',
      // The page shows session data: never keep it in a cache, never let it run foreign code.
      'Cache-Control': 'no-store',
      'Content-Security-Policy':
        `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; ` +
        `img-src data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
    });
    const userId = this.logins.userId(req);
    if (userId === undefined) return renderSessionPage({ tenant }, nonce);
    const { sessions } = await this.sessions.listMine(req);
    const current = sessions.find((s) => s.current);
    return renderSessionPage(
      {
        tenant,
        user: {
          name: userId,
          admin: this.users.find(tenant, userId)?.admin ?? false,
          current,
          expiresAt: current?.expiresAt,
          endsAt: current?.absoluteExpiresAt,
          count: req.session.count ?? 0,
          // The device in hand first; the others in the listing's order (oldest login first).
          sessions: current ? [current, ...sessions.filter((s) => s !== current)] : sessions,
        },
      },
      nonce,
    );
  }
}
