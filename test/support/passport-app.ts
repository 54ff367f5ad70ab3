import {
  Controller,
  Get,
  Injectable,
  Post,
  Req,
  UseGuards,
  type LoggerService,
} from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AuthGuard, PassportModule } from '@nestjs/passport';
import { Test } from '@nestjs/testing';
import { startTestingApp, testPlatform } from './testing-app.js';
import type { Request } from 'express';
import passport from 'passport';
import type { SessionData } from 'express-session';
import {
  Session,
  SessionAuthGuard,
  SessionLoginService,
  SessionUserId,
  SessionRevocationService,
  TenantSessionModule,
  type TenantSessionModuleOptions,
} from 'nestjs-tenant-session';
import {
  LocalAuthGuard,
  LocalStrategy,
  PassportUsers,
  SessionSerializer,
  passportCall,
  type PassportUser,
} from './passport-docs-setup.js';
import { ProviderAuthGuard, useProviderStrategy } from './passport-provider.js';
import { TEST_HOSTS, TEST_SECRET } from './test-app.js';

/** Ids differ from usernames, so a test can tell which one a session is indexed under. */
export const PASSPORT_USERS: readonly PassportUser[] = [
  { id: 'u-alice', username: 'alice', password: 'alice-pass' },
  { id: 'u-bob', username: 'bob', password: 'bob-pass' },
];

@Injectable()
class UsersService extends PassportUsers {
  check(username: string, password: string): PassportUser | undefined {
    return PASSPORT_USERS.find((u) => u.username === username && u.password === password);
  }

  byId(id: unknown): PassportUser | undefined {
    return PASSPORT_USERS.find((u) => u.id === id);
  }
}

useProviderStrategy((username) => PASSPORT_USERS.find((u) => u.username === username));

/** Checks the credentials only (no passport login), for the route that logs in twice. */
@Injectable()
class CredentialsGuard extends AuthGuard('local') {}

@Controller()
class PassportController {
  constructor(
    private readonly logins: SessionLoginService,
    private readonly sessions: SessionRevocationService,
  ) {}

  @Post('auth/login')
  @UseGuards(LocalAuthGuard)
  login(@Req() req: Request) {
    return { user: (req.user as PassportUser).id };
  }

  /** Redirects to the provider (passport answers); never reached. */
  @Get('auth/provider')
  @UseGuards(ProviderAuthGuard)
  provider() {
    return { reached: true };
  }

  @Get('auth/provider/callback')
  @UseGuards(ProviderAuthGuard)
  providerCallback(@Req() req: Request) {
    return { user: (req.user as PassportUser).id };
  }

  /** The library's login (by username), then passport's (which regenerates the session again). */
  @Post('auth/login-both')
  @UseGuards(CredentialsGuard)
  async loginBoth(@Req() req: Request) {
    const user = req.user as PassportUser;
    await this.logins.login(req, user.username);
    await passportCall((done) => req.logIn(user, done));
    return { user: user.id };
  }

  @Post('auth/logout')
  async logout(@Req() req: Request) {
    await passportCall((done) => req.logout(done));
    return { ok: true };
  }

  /** The session as the module's decorators read it, whoever logged it in. */
  @Get('me')
  @UseGuards(SessionAuthGuard)
  me(@SessionUserId() user: string, @Session() session: SessionData) {
    return { user, count: session.count ?? 0 };
  }

  /** An anonymous visit that stores a session, for a login to regenerate. */
  @Post('visit')
  visit(@Req() req: Request) {
    req.session.count = (req.session.count ?? 0) + 1;
    return { count: req.session.count };
  }

  @Post('increment')
  @UseGuards(SessionAuthGuard)
  increment(@Req() req: Request) {
    req.session.count = (req.session.count ?? 0) + 1;
    return { count: req.session.count };
  }

  @Get('sessions')
  @UseGuards(SessionAuthGuard)
  async list(@Req() req: Request) {
    return (await this.sessions.listMine(req)).sessions;
  }

  @Post('sessions/revoke-others')
  @UseGuards(SessionAuthGuard)
  async revokeOthers(@Req() req: Request) {
    return { revoked: await this.sessions.revokeOthers(req) };
  }
}

export interface PassportApp {
  app: NestExpressApplication;
  http: ReturnType<NestExpressApplication['getHttpServer']>;
  sessions: SessionRevocationService;
  close(): Promise<void>;
}

/**
 * A Nest app that logs in with @nestjs/passport (local strategy, sessions) and uses the module
 * for sessions, with no glue between the two: whatever gets indexed, passport's own calls did.
 * `passport.initialize()` is there only so `req.logout` exists on routes no passport guard ran
 * on; `passport.session()` is left out: nothing here needs `req.user` after the login request.
 * On the platform the suite runs on (TEST_PLATFORM) unless `platform` says which.
 */
export async function createPassportApp(
  options: Partial<TenantSessionModuleOptions> & { appName: string },
  logger?: LoggerService,
  platform = testPlatform(),
): Promise<PassportApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      PassportModule.register({ session: true }),
      TenantSessionModule.forRoot({
        tenant: { byHost: TEST_HOSTS },
        secret: TEST_SECRET,
        redis: process.env.TEST_REDIS_URL,
        ...options,
      }),
    ],
    controllers: [PassportController],
    providers: [
      { provide: PassportUsers, useClass: UsersService },
      LocalStrategy,
      SessionSerializer,
    ],
  }).compile();
  const running = await startTestingApp(moduleRef, {
    logger,
    platform,
    beforeInit: (app) => app.use(passport.initialize()),
  });
  return { ...running, sessions: running.app.get(SessionRevocationService) };
}
