import { Injectable, UnsupportedMediaTypeException, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

/**
 * A POST with a body must send JSON. Cross-site HTML forms can only send form or text bodies,
 * so this closes login CSRF (a page logging its visitor into the attacker's account); the
 * SameSite=Lax session cookie already keeps cross-site POSTs from riding on a session.
 * A POST without a body carries nothing to forge and is let through.
 */
@Injectable()
export class JsonPostsMiddleware implements NestMiddleware {
  use(req: Request, _res: Response, next: NextFunction): void {
    const hasBody =
      req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length']) > 0;
    if (req.method === 'POST' && hasBody && !req.is('application/json')) {
      throw new UnsupportedMediaTypeException('Send JSON (Content-Type: application/json)');
    }
    next();
  }
}
