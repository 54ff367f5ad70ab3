import { Injectable, UnauthorizedException, type ExecutionContext } from '@nestjs/common';
import { AuthGuard, PassportSerializer, PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-local';

// Session-based passport auth as Nest's docs show it, shared by the passport test apps. Passport
// keeps strategies and serializers in its global singleton, so whichever app a jest file builds
// first registers the ones every later app in that file uses.

declare module 'express-session' {
  interface SessionData {
    passport?: { user?: unknown };
  }
}

export interface PassportUser {
  id: string;
  username: string;
  password: string;
}

/** The user directory the docs' classes consult; each app provides its own. */
export abstract class PassportUsers {
  abstract check(username: string, password: string): PassportUser | undefined;
  /** May throw, for a directory that is down: the serializer passes the error to passport. */
  abstract byId(id: unknown): PassportUser | undefined;
}

@Injectable()
export class LocalStrategy extends PassportStrategy(Strategy) {
  constructor(private readonly users: PassportUsers) {
    super();
  }

  validate(username: string, password: string): PassportUser {
    const user = this.users.check(username, password);
    if (!user) throw new UnauthorizedException();
    return user;
  }
}

@Injectable()
export class SessionSerializer extends PassportSerializer {
  constructor(private readonly users: PassportUsers) {
    super();
  }

  serializeUser(user: PassportUser, done: (err: unknown, id?: string) => void): void {
    done(null, user.id);
  }

  /** A user gone from the directory is `false`: passport then forgets who the session was. */
  deserializeUser(id: string, done: (err: unknown, user?: PassportUser | false) => void): void {
    let user: PassportUser | undefined;
    try {
      user = this.users.byId(id);
    } catch (err) {
      return done(err);
    }
    done(null, user ?? false);
  }
}

@Injectable()
export class LocalAuthGuard extends AuthGuard('local') {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const result = (await super.canActivate(context)) as boolean;
    await super.logIn(context.switchToHttp().getRequest());
    return result;
  }
}

/** Passport's callback-style calls (`req.logIn`, `req.logout`) as a promise. */
export function passportCall(run: (done: (err: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => run((err) => (err ? reject(err) : resolve())));
}
