/**
 * express-session + connect-redis as (a) and (d) configure it: like the module (same secret, idle
 * TTL, rolling cookie, no resave, no uninitialized sessions), on an ioredis client.
 */
import { RedisStore } from 'connect-redis';
import type { RequestHandler } from 'express';
import session from 'express-session';
import type { Redis } from 'ioredis';
import { BENCH_SECRET, IDLE_TTL_SECONDS } from './bench-app.js';

export function connectRedisSession(redis: Redis): RequestHandler {
  return session({
    store: new RedisStore({ client: redis, prefix: 'sess:', ttl: IDLE_TTL_SECONDS }),
    secret: BENCH_SECRET,
    name: 'sid',
    cookie: { httpOnly: true, sameSite: 'lax', maxAge: IDLE_TTL_SECONDS * 1000 },
    rolling: true,
    resave: false,
    saveUninitialized: false,
  });
}
