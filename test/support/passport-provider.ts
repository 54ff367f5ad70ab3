import { Injectable, type ExecutionContext } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { Request } from 'express';
import type { FastifyReply } from 'fastify';
import { randomUUID } from 'node:crypto';
import passport from 'passport';

// A sign-in through a provider, shaped as OAuth's, for the strategies that answer the request
// themselves: passport writes their redirect with Node's response calls.

export const PROVIDER_URL = 'https://idp.test/authorize';

declare module 'express-session' {
  interface SessionData {
    providerState?: string;
  }
}

/**
 * Without a code: keeps a state in the session and redirects to the provider. With the code and
 * that state: the user the code names (a username), looked up by `findUser`.
 */
class ProviderStrategy extends passport.Strategy {
  override name = 'provider';

  constructor(private readonly findUser: (username: string) => Express.User | undefined) {
    super();
  }

  override authenticate(req: Request): void {
    const { code, state } = req.query as { code?: string; state?: string };
    if (!code) {
      req.session.providerState = randomUUID();
      return this.redirect(`${PROVIDER_URL}?state=${req.session.providerState}`);
    }
    const user = state === req.session.providerState ? this.findUser(code) : undefined;
    if (user) this.success(user);
    else this.fail();
  }
}

/** Registers the strategy with passport's singleton, as `PassportStrategy` would. */
export function useProviderStrategy(findUser: (username: string) => Express.User | undefined) {
  passport.use(new ProviderStrategy(findUser));
}

/**
 * The recipe's guard (docs/recipes/passport.md#on-fastify): on Fastify, passport is handed the
 * reply in the shape its redirect writes to (`statusCode`, `setHeader`, `end`), so the answer
 * goes out through Fastify, session commit included. Express's response is handed as it is.
 */
@Injectable()
export class ProviderAuthGuard extends AuthGuard('provider') {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const result = (await super.canActivate(context)) as boolean;
    await super.logIn(context.switchToHttp().getRequest());
    return result;
  }

  getResponse(context: ExecutionContext) {
    const response = context.switchToHttp().getResponse<FastifyReply | object>();
    if (!('raw' in response)) return response;
    const reply = response;
    return {
      set statusCode(code: number) {
        reply.code(code);
      },
      setHeader: (name: string, value: string) => reply.header(name, value),
      end: (body?: string) => reply.send(body),
    };
  }
}
