/**
 * (q) What a Nest user on Fastify wires up today: `FastifyAdapter` with `@fastify/cookie` and
 * `@fastify/session`, on the store its README points to (an express-session store) as its own
 * Redis example builds it: connect-redis 8 on an ioredis client with auto-pipelining (connect-redis
 * 9 dropped ioredis). Configured like (d) and the module: same secret, idle TTL, cookie name and
 * attributes, rolling cookie (which @fastify/session implements by saving the whole session on
 * every request), no uninitialized sessions; a guard for logged-in routes.
 */
import 'reflect-metadata';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { RedisStore } from 'connect-redis';
import type { FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import { announceReady, BENCH_SECRET, benchServerEnv, IDLE_TTL_SECONDS } from './bench-app.js';
import { plainSessionController } from './plain-session-routes.js';

declare module 'fastify' {
  interface Session {
    user?: string;
    count?: number;
  }
}

@Module({
  controllers: [
    plainSessionController(async (req: FastifyRequest, user: string) => {
      await req.session.regenerate();
      req.session.user = user;
      await req.session.save();
    }),
  ],
})
class AccountModule {}

const { port, redisUrl } = benchServerEnv();
const redis = new Redis(redisUrl, { enableAutoPipelining: true });
const app = await NestFactory.create<NestFastifyApplication>(AccountModule, new FastifyAdapter(), {
  logger: false,
});
await app.register(fastifyCookie);
await app.register(fastifySession, {
  secret: BENCH_SECRET,
  cookieName: 'sid',
  cookie: { httpOnly: true, sameSite: 'lax', secure: false, maxAge: IDLE_TTL_SECONDS * 1000 },
  rolling: true,
  saveUninitialized: false,
  store: new RedisStore({ client: redis, prefix: 'sess:', ttl: IDLE_TTL_SECONDS }),
});
await app.listen(port, '127.0.0.1');
announceReady(async () => {
  await app.close();
  await redis.quit();
});
