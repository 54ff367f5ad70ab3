// Compiled against the built package (dist/), as an application would see it: checks that the
// published declarations keep working with SessionData augmentation. Run by `npm run lint`.
import { Controller, Get, Module, UseGuards } from '@nestjs/common';
import {
  Public,
  Session,
  SessionAuthGuard,
  SessionUserId,
  Tenant,
  TenantSessionModule,
  type ActiveSession,
  type TenantSessionModuleOptions,
} from 'nestjs-tenant-session';
import { TenantSessionHealthIndicator } from 'nestjs-tenant-session/health';
import {
  TenantSessionIoAdapter,
  type HandshakeRequest,
  type TenantSessionIoAdapterOptions,
} from 'nestjs-tenant-session/socket.io';
import type { Request } from 'express';

declare module 'express-session' {
  interface SessionData {
    user: { id: string; name: string };
    cart: string[];
  }
}

@Controller()
class ShopController {
  @Get('me')
  @UseGuards(SessionAuthGuard)
  me(
    @Session('user') user: { id: string },
    @Session('cart') cart: string[],
    @Tenant() tenant: string,
    @SessionUserId() userId: string,
  ) {
    return { user, cart, tenant, userId };
  }

  @Public()
  @Get('whole')
  whole(@Session() session: { cart?: string[] }): ActiveSession[] {
    return session.cart ? [] : [];
  }
}

const options: TenantSessionModuleOptions = {
  tenant: { byHost: { 'acme.example.com': 'acme' } },
  secret: ['new-secret-0123456789', 'old-secret-0123456789'],
  tenantSettings: async (tenant) => (tenant === 'acme' ? { idleTtl: 600 } : undefined),
  identity: (session) => session.user?.id,
};

@Module({ imports: [TenantSessionModule.forRoot(options)], controllers: [ShopController] })
export class ShopModule {}

/** The health entry point's declarations resolve through the package's exports. */
export type HealthIndicator = TenantSessionHealthIndicator;

/**
 * An origin check may read the platform-neutral handshake request, or (as written before it
 * existed, for Express apps) declare Express's `Request`.
 */
export const neutralCheck: TenantSessionIoAdapterOptions = {
  allowOrigin: (origin: string, req: HandshakeRequest) => origin === `https://${req.host}`,
};
export const expressCheck: TenantSessionIoAdapterOptions = {
  allowOrigin: (origin: string, req: Request) => origin === `${req.protocol}://${req.host}`,
};
export type IoAdapter = TenantSessionIoAdapter;
