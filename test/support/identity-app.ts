import { Body, Controller, Get, Post, Req, UseGuards, type LoggerService } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { startTestingApp } from './testing-app.js';
import type { Request } from 'express';
import {
  SessionAuthGuard,
  SessionLoginService,
  SessionRevocationService,
  TenantSessionModule,
  type TenantSessionModuleOptions,
} from 'nestjs-tenant-session';
import { TEST_HOSTS, TEST_SECRET } from './test-app.js';

declare module 'express-session' {
  interface SessionData {
    /** Where the identity-option app keeps its logged-in user. */
    userId?: unknown;
    theme?: string;
  }
}

/** A Nest LoggerService that keeps every line, to assert on warnings and on what never leaks. */
export class LogCapture implements LoggerService {
  readonly lines: string[] = [];

  log(message: unknown, ...rest: unknown[]): void {
    this.keep('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.keep('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.keep('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.keep('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.keep('verbose', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.keep('fatal', message, rest);
  }

  /** Lines logged at `level` whose text contains `fragment`. */
  find(level: string, fragment: string): string[] {
    return this.lines.filter((line) => line.startsWith(`${level} `) && line.includes(fragment));
  }

  clear(): void {
    this.lines.length = 0;
  }

  private keep(level: string, message: unknown, rest: unknown[]): void {
    const text = [message, ...rest]
      .map((part) => (typeof part === 'string' ? part : JSON.stringify(part)))
      .join(' ');
    this.lines.push(`${level} ${text}`);
    if (process.env.TEST_LOGS) console.log(`${level} ${text}`);
  }
}

function sessionCall(run: (done: (err: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => run((err) => (err ? reject(err) : resolve())));
}

/**
 * Routes of apps that handle sessions their own way: copying request bodies into the session,
 * keeping the user in a field of their own (the `identity` option), or in passport's field.
 */
@Controller()
class IdentityController {
  constructor(private readonly logins: SessionLoginService) {}

  /** The library's own login, for a real sealed owner. */
  @Post('login')
  async login(@Req() req: Request, @Body() body: { user: string }) {
    await this.logins.login(req, body.user);
    return { user: body.user };
  }

  /** Anyone may store a visit, so anonymous visitors get a stored session. */
  @Post('visit')
  visit(@Req() req: Request) {
    req.session.visits = (req.session.visits ?? 0) + 1;
    return { visits: req.session.visits };
  }

  /** The careless pattern: request body straight into the session. */
  @Post('preferences')
  preferences(@Req() req: Request, @Body() body: Record<string, unknown>) {
    Object.assign(req.session, body);
    return { ok: true };
  }

  /** Removes a field the app thinks is the owner, as careless code might. */
  @Post('forget-owner')
  forgetOwner(@Req() req: Request) {
    const session = req.session as unknown as Record<string, unknown>;
    delete session._owner;
    session.touched = true;
    return { ok: true };
  }

  @Get('me')
  @UseGuards(SessionAuthGuard)
  me(@Req() req: Request) {
    return { user: this.logins.userId(req) };
  }

  /** Open to anyone: who the library thinks this is, and the app's own fields. */
  @Get('whoami')
  whoami(@Req() req: Request) {
    const { theme, visits } = req.session;
    return { user: this.logins.userId(req) ?? null, theme: theme ?? null, visits: visits ?? 0 };
  }

  /** An app login by its own field: new session id first, then the user. */
  @Post('app-login')
  async appLogin(@Req() req: Request, @Body() body: { user: unknown }) {
    await sessionCall((done) => req.session.regenerate(done));
    req.session.userId = body.user;
    return { ok: true };
  }

  /** Sets (or with `null`, clears) the app's user field on the session as loaded. */
  @Post('app-user')
  appUser(@Req() req: Request, @Body() body: { user: unknown }) {
    if (body.user === null) delete req.session.userId;
    else req.session.userId = body.user;
    return { ok: true };
  }

  /** What a passport login leaves in the session, written by hand (with the default identity). */
  @Post('passport-field-login')
  async passportFieldLogin(@Req() req: Request, @Body() body: { user: unknown }) {
    await sessionCall((done) => req.session.regenerate(done));
    (req.session as unknown as Record<string, unknown>).passport = { user: body.user };
    return { ok: true };
  }
}

export interface IdentityApp {
  app: NestExpressApplication;
  http: ReturnType<NestExpressApplication['getHttpServer']>;
  sessions: SessionRevocationService;
  close(): Promise<void>;
}

export async function createIdentityApp(
  options: Partial<TenantSessionModuleOptions> & { appName: string },
  logger: LoggerService,
): Promise<IdentityApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      TenantSessionModule.forRoot({
        tenant: { byHost: TEST_HOSTS },
        secret: TEST_SECRET,
        redis: process.env.TEST_REDIS_URL,
        ...options,
      }),
    ],
    controllers: [IdentityController],
  }).compile();
  const running = await startTestingApp(moduleRef, { logger });
  return { ...running, sessions: running.app.get(SessionRevocationService) };
}
