import type { FastifyInstance, FastifyRequest } from 'fastify';
import { getRequestContext, setRequestContext } from '../session/request-context.js';
import { getRequestFacts, setRequestFacts } from '../session/request-facts.js';
import type { SessionRequest } from '../session/session-request.js';
import { commitOnSend } from './fastify-commit.js';
import { sharePassportFields } from './passport-fields.js';

/** The fields express-session (and passport) read on a request, kept on the Node request. */
const SESSION_FIELDS = ['session', 'sessionID', 'sessionStore'] as const;

/**
 * Makes the session that the module's middleware loaded on the Node request (Nest middleware
 * runs there on Fastify) the session of Fastify's request too, which guards, interceptors,
 * pipes, `@Req()` and the decorators get: `request.session`, `request.sessionID` and
 * `request.sessionStore` read and write the Node request's, so a login's regenerate or a logout
 * is seen on both, and the request's tenant and facts, and what passport's middleware set
 * (passport-fields.ts), are shared in an `onRequest` hook that runs after Nest middleware. Its
 * `onSend` hook runs the commit (fastify-commit.ts). Added once, as the module's middleware is
 * set up, before the instance is ready.
 */
export function installFastifySessionHooks(instance: FastifyInstance): void {
  for (const field of SESSION_FIELDS) {
    instance.decorateRequest(field, {
      getter(this: FastifyRequest) {
        return (this.raw as SessionRequest)[field];
      },
      setter(this: FastifyRequest, value: unknown) {
        (this.raw as unknown as Record<string, unknown>)[field] = value;
      },
    } as never);
  }
  instance.addHook('onRequest', (request, _reply, done) => {
    const context = getRequestContext(request.raw);
    const facts = getRequestFacts(request.raw);
    if (context) setRequestContext(request, context);
    if (facts) setRequestFacts(request, facts);
    sharePassportFields(request.raw, request);
    done();
  });
  instance.addHook('onSend', (request, reply, payload) =>
    commitOnSend(request.raw, reply, payload),
  );
}
