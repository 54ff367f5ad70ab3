import { Injectable, type ExecutionContext } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { Request } from 'express';
import { stringField } from '../http/request-body.js';

/**
 * Checks the credentials (LocalStrategy), then logs the user in through passport, which gives
 * the visitor a new session id holding the user (no session fixation).
 */
@Injectable()
export class LocalAuthGuard extends AuthGuard('local') {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    // A malformed body is a 400 naming the field, before passport-local reads it.
    stringField(req.body, 'username');
    stringField(req.body, 'password');
    const result = (await super.canActivate(context)) as boolean;
    await super.logIn(req);
    return result;
  }
}
