import { Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { getRequestTenant } from 'nestjs-tenant-session';
import { Strategy } from 'passport-local';
import { UserDirectory, type SampleUser } from './user-directory.service.js';

/** Username and password from the JSON body, checked in the request's tenant only. */
@Injectable()
export class LocalStrategy extends PassportStrategy(Strategy) {
  constructor(private readonly users: UserDirectory) {
    super({ passReqToCallback: true });
  }

  async validate(req: Request, username: string, password: string): Promise<SampleUser> {
    // Set by the module's middleware, which covers every route of the sample.
    const tenant = getRequestTenant(req)!;
    const user = await this.users.authenticate(tenant, username, password);
    if (!user) throw new UnauthorizedException('Wrong username or password');
    return user;
  }
}
