import { Injectable, UnsupportedMediaTypeException, type NestMiddleware } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import typeIs from 'type-is';

/**
 * A POST with a body must send JSON. Cross-site HTML forms can only send form or text bodies,
 * so this closes login CSRF (a page logging its visitor into the attacker's account); the
 * SameSite=Lax session cookie already keeps cross-site POSTs from riding on a session.
 * A POST without a body carries nothing to forge and is let through. Reads only Node's request,
 * which Nest middleware gets on Express and on Fastify alike; the type is matched by the library
 * behind Express's `req.is()`, so both platforms decide the same way.
 */
@Injectable()
export class JsonPostsMiddleware implements NestMiddleware {
  use(req: IncomingMessage, _res: unknown, next: () => void): void {
    const hasBody =
      req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length']) > 0;
    const json = typeIs.is(req.headers['content-type'] ?? '', ['application/json']);
    if (req.method === 'POST' && hasBody && !json) {
      throw new UnsupportedMediaTypeException('Send JSON (Content-Type: application/json)');
    }
    next();
  }
}
