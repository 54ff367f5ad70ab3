/**
 * The routes of the servers that wire a session library themselves, (d), (f) and (q): (d)'s
 * `POST /login`, `GET /me` and `POST /increment` over `req.session.user` and `req.session.count`,
 * and a guard for the logged-in ones; each server gives its library's own login (regenerate, set
 * the user, save).
 */
import {
  Body,
  Controller,
  Get,
  Injectable,
  Post,
  Req,
  UnauthorizedException,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
  type Type,
} from '@nestjs/common';

/** A request of express-session or of @fastify/session, with the fields the routes use. */
export interface PlainSessionRequest {
  session: { user?: string; count?: number };
}

@Injectable()
class LoggedIn implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (!context.switchToHttp().getRequest<PlainSessionRequest>().session.user) {
      throw new UnauthorizedException('Login required');
    }
    return true;
  }
}

export function plainSessionController<R extends PlainSessionRequest>(
  logIn: (req: R, user: string) => Promise<void>,
): Type {
  @Controller()
  class AccountController {
    @Post('login')
    async login(@Req() req: R, @Body() body: { user: string }) {
      await logIn(req, body.user);
      return { user: body.user };
    }

    @Get('me')
    @UseGuards(LoggedIn)
    me(@Req() req: R) {
      return { user: req.session.user, tenant: 'default', count: req.session.count ?? 0 };
    }

    @Post('increment')
    @UseGuards(LoggedIn)
    increment(@Req() req: R) {
      req.session.count = (req.session.count ?? 0) + 1;
      return { count: req.session.count };
    }
  }
  return AccountController;
}
