import {
  Controller,
  Get,
  Injectable,
  Module,
  Post,
  Req,
  UseGuards,
  type DynamicModule,
  type LoggerService,
  type Type,
} from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { PassportModule } from '@nestjs/passport';
import { Test } from '@nestjs/testing';
import { startTestingApp } from './testing-app.js';
import type { Request, RequestHandler } from 'express';
import passport from 'passport';
import {
  Public,
  SessionAuthGuard,
  SessionLoginService,
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
import { TEST_HOSTS, TEST_SECRET } from './test-app.js';

export type DirectoryUser = PassportUser;

const SEED: readonly DirectoryUser[] = [
  { id: 'u-alice', username: 'alice', password: 'alice-pass' },
  { id: 'u-bob', username: 'bob', password: 'bob-pass' },
];

/**
 * The users, by id. Process-wide on purpose: passport keeps serializers in its global
 * singleton (the first app's PassportSerializer answers for every app the file builds), so
 * a per-app directory would not be the one consulted.
 */
export const directory = {
  users: new Map<string, DirectoryUser>(),
  /** Looking this user up fails (the directory is down), for error paths. */
  failingId: undefined as string | undefined,
  reset(): void {
    this.users = new Map(SEED.map((u) => [u.id, { ...u }]));
    this.failingId = undefined;
  },
  remove(id: string): void {
    this.users.delete(id);
  },
};
directory.reset();

@Injectable()
class UsersService extends PassportUsers {
  check(username: string, password: string): DirectoryUser | undefined {
    return [...directory.users.values()].find(
      (u) => u.username === username && u.password === password,
    );
  }

  byId(id: unknown): DirectoryUser | undefined {
    if (id === directory.failingId) throw new Error('directory unreachable');
    return typeof id === 'string' ? directory.users.get(id) : undefined;
  }
}

@Module({
  imports: [PassportModule.register({ session: true })],
  providers: [{ provide: PassportUsers, useClass: UsersService }, LocalStrategy, SessionSerializer],
})
class AuthModule {}

@Controller()
class AccountController {
  constructor(
    private readonly logins: SessionLoginService,
    private readonly sessions: SessionRevocationService,
  ) {}

  @Post('auth/login')
  @UseGuards(LocalAuthGuard)
  login(@Req() req: Request) {
    return { user: (req.user as DirectoryUser).id };
  }

  /** No passport guard runs here: `req.logout` exists because passport.session() ran. */
  @Post('auth/logout')
  async logout(@Req() req: Request) {
    await passportCall((done) => req.logout(done));
    return { ok: true };
  }

  /** `req.user` is what passport.session() deserialized on this very request. */
  @Get('profile')
  @UseGuards(SessionAuthGuard)
  profile(@Req() req: Request) {
    return {
      username: (req.user as DirectoryUser | undefined)?.username ?? null,
      identity: this.logins.userId(req) ?? null,
    };
  }

  @Get('open')
  open(@Req() req: Request) {
    return {
      username: (req.user as DirectoryUser | undefined)?.username ?? null,
      authenticated: typeof req.isAuthenticated === 'function' ? req.isAuthenticated() : null,
      ran: ranOn(req),
    };
  }

  @Get('health')
  @Public()
  health(@Req() req: Request) {
    return { session: req.session !== undefined, ran: ranOn(req) };
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

/**
 * What the suite's tracing middleware noted on the request. On Fastify, `afterSession` runs on
 * the Node request (`req.raw`), where Nest middleware runs.
 */
function ranOn(req: Request): string[] {
  return (((req as { raw?: object }).raw ?? req) as { ran?: string[] }).ran ?? [];
}

/**
 * Where the module and the passport code sit in the app; what must not matter:
 * - `root, session module first|last`: forRoot, not global, imported before or after the
 *   passport module, the controller in the root module (which imports both);
 * - `global, feature module first`: forRoot with isGlobal, the controller and passport in a
 *   feature module imported before it;
 * - `global async, feature module first`: the same through forRootAsync's useFactory.
 */
export const LAYOUTS = [
  'root, session module first',
  'root, session module last',
  'global, feature module first',
  'global async, feature module first',
] as const;
export type Layout = (typeof LAYOUTS)[number];

@Module({ imports: [AuthModule], controllers: [AccountController] })
class AccountFeatureModule {}

function appModule(layout: Layout, options: TenantSessionModuleOptions): Type<unknown> {
  let imports: (Type<unknown> | DynamicModule)[];
  let controllers: Type<unknown>[] = [];
  switch (layout) {
    case 'root, session module first':
      imports = [TenantSessionModule.forRoot(options), AuthModule];
      controllers = [AccountController];
      break;
    case 'root, session module last':
      imports = [AuthModule, TenantSessionModule.forRoot(options)];
      controllers = [AccountController];
      break;
    case 'global, feature module first':
      imports = [AccountFeatureModule, TenantSessionModule.forRoot({ ...options, isGlobal: true })];
      break;
    case 'global async, feature module first':
      imports = [
        AccountFeatureModule,
        TenantSessionModule.forRootAsync({ isGlobal: true, useFactory: () => options }),
      ];
      break;
  }
  @Module({ imports, controllers })
  class AppModule {}
  return AppModule;
}

/** The standard place for passport.session(): right after the tenant's session is loaded. */
export const PASSPORT_SESSION: RequestHandler[] = [passport.session()];

export interface PassportFirstClassApp {
  app: NestExpressApplication;
  http: ReturnType<NestExpressApplication['getHttpServer']>;
  sessions: SessionRevocationService;
  close(): Promise<void>;
}

/**
 * An app logging in through @nestjs/passport as Nest's docs show it, with nothing passport
 * related in "main.ts" (no app.use): whatever passport does per request, `afterSession` runs.
 */
export async function createPassportFirstClassApp(
  options: Partial<TenantSessionModuleOptions> & { appName: string },
  { layout = LAYOUTS[0], logger }: { layout?: Layout; logger?: LoggerService } = {},
): Promise<PassportFirstClassApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      appModule(layout, {
        tenant: { byHost: TEST_HOSTS },
        secret: TEST_SECRET,
        redis: process.env.TEST_REDIS_URL,
        exclude: ['health'],
        afterSession: PASSPORT_SESSION,
        ...options,
      }),
    ],
  }).compile();
  const running = await startTestingApp(moduleRef, { logger });
  return { ...running, sessions: running.app.get(SessionRevocationService) };
}
