import { Catch, HttpException, Logger, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';

/**
 * Logs an unexpected error (a 500) without request data: the method, the route's pattern (not
 * the URL, whose query may hold a token), the error's name and stack frames; never headers,
 * cookies, bodies or the error's message, which may quote any of them (a parser's "Unexpected
 * token in 'secret…'"). The answer is Nest's own 500 JSON; HTTP errors (the app's exceptions, a
 * body parser's 400) are answered as Nest answers them.
 */
@Catch()
export class ServerErrorFilter extends BaseExceptionFilter {
  private readonly logger = new Logger('Sample');

  override catch(exception: unknown, host: ArgumentsHost): void {
    if (exception instanceof HttpException || isHttpError(exception)) {
      return super.catch(exception, host);
    }
    const req = host.switchToHttp().getRequest<RoutedRequest>();
    this.logger.error(`${req.method} ${routePattern(req)} failed: ${withoutMessage(exception)}`);
    // Nest's answer for an unknown error, without letting it log the error (and its message).
    super.catch(new HttpException('Internal server error', 500), host);
  }
}

/** What the request says of its route: Express's `req.route`, Fastify's `request.routeOptions`. */
interface RoutedRequest {
  method: string;
  route?: { path?: string };
  routeOptions?: { url?: string };
}

function routePattern(req: RoutedRequest): string {
  return req.route?.path ?? req.routeOptions?.url ?? '(no route)';
}

/** An error carrying a 4xx status: body-parser's (`http-errors`), Fastify's own (`FST_ERR_…`). */
function isHttpError(error: unknown): boolean {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}

/** The error's name and stack frames: where it happened, and nothing it was told. */
function withoutMessage(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  const frames = (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  return [error.name, ...frames].join('\n');
}
