/**
 * express-session as (a), (d) and (f) configure it: like the module (same secret, idle TTL,
 * rolling cookie, no resave, no uninitialized sessions), on connect-redis with an ioredis
 * client, or on express-session's own in-process MemoryStore.
 */
import { RedisStore } from 'connect-redis';
import type { RequestHandler } from 'express';
import session from 'express-session';
import type { Redis } from 'ioredis';
import { BENCH_SECRET, IDLE_TTL_SECONDS } from './bench-app.js';

const SESSION_OPTIONS: session.SessionOptions = {
  secret: BENCH_SECRET,
  name: 'sid',
  cookie: { httpOnly: true, sameSite: 'lax', maxAge: IDLE_TTL_SECONDS * 1000 },
  rolling: true,
  resave: false,
  saveUninitialized: false,
};

export function connectRedisSession(redis: Redis): RequestHandler {
  return session({
    ...SESSION_OPTIONS,
    store: new RedisStore({ client: redis, prefix: 'sess:', ttl: IDLE_TTL_SECONDS }),
  });
}

/** No Redis at all: what sessions cost in the process, the floor for any near cache. */
export function memoryStoreSession(): RequestHandler {
  return session(SESSION_OPTIONS);
}
