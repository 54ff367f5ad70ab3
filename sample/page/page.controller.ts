import { Controller, Get, Req, Res } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Request } from 'express';
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
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  @Get()
  async page(
    @Req() req: Request,
    @Res({ passthrough: true }) res: unknown,
    @Tenant() tenant: string,
  ): Promise<string> {
    const nonce = randomBytes(16).toString('base64');
    const headers = {
      'Content-Type': 'text/html; charset=utf-8',
      // The page shows session data: never keep it in a cache, never let it run foreign code.
      'Cache-Control': 'no-store',
      'Content-Security-Policy':
        `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; ` +
        `img-src data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
    };
    // Through Nest's adapter: an Express response or a Fastify reply.
    for (const [name, value] of Object.entries(headers)) {
      this.adapterHost.httpAdapter.setHeader(res, name, value);
    }
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
