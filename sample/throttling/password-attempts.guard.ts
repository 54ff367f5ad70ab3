import {
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { getRequestTenant, sessionUserId } from 'nestjs-tenant-session';
import { createHash } from 'node:crypto';
import { SampleConfig } from '../sample-config.js';
import { PasswordAttempts } from './password-attempts.js';

const WINDOW_MS = 60_000;

/**
 * Limits password checks (login, re-authentication, password change) per tenant, username and
 * client address, `LOGIN_ATTEMPTS_PER_MINUTE` each: a guesser is slowed down on one account from
 * one address, while the account's owner, elsewhere, can still log in (a limit per username
 * alone would let anyone lock them out). The user is the session's when it has one (a body
 * naming others cannot spread attempts over fresh counters), else the one the login names. Every
 * attempt counts, a right password too. Over the limit: 429 `TOO_MANY_ATTEMPTS` with
 * `Retry-After` (seconds), before the password is checked. Runs before the guard that checks it.
 */
@Injectable()
export class PasswordAttemptsGuard implements CanActivate {
  constructor(
    @Inject(PasswordAttempts) private readonly attempts: PasswordAttempts,
    @Inject(SampleConfig) private readonly config: SampleConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<ClientRequest>();
    const { refused, windowLeftMs } = await this.attempts.count(
      `${context.getHandler().name}:${trackerOf(req)}`,
      WINDOW_MS,
      this.config.loginAttemptsPerMinute,
    );
    if (!refused) return true;
    const retryAfter = Math.max(1, Math.ceil(windowLeftMs / 1000));
    // Through Nest's adapter: an Express response or a Fastify reply.
    this.adapterHost.httpAdapter.setHeader(http.getResponse(), 'Retry-After', String(retryAfter));
    throw new HttpException(
      {
        statusCode: 429,
        error: 'Too Many Requests',
        code: 'TOO_MANY_ATTEMPTS',
        message: `Too many password attempts: try again in ${retryAfter} s`,
        retryAfter,
      },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

/** What both platforms' requests give: the parsed body, the client address (proxies trusted). */
interface ClientRequest {
  body?: unknown;
  ip?: string;
  session?: object;
}

/** Tenant, username and client address, as a digest: a Redis key holds none of them. */
function trackerOf(req: ClientRequest): string {
  const body = req.body as { username?: unknown } | undefined;
  const username = sessionUserId(req) ?? body?.username;
  const tracked = [getRequestTenant(req), typeof username === 'string' ? username : '', req.ip];
  return createHash('sha256').update(JSON.stringify(tracked)).digest('base64url');
}
