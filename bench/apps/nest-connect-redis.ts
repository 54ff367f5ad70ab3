/**
 * (d) What a Nest user wires up today: Nest with `app.use(session(...))` from express-session
 * and connect-redis on an ioredis client, configured like (a) and the module (same secret, idle
 * TTL, rolling cookie, no resave, no uninitialized sessions), and a guard for logged-in routes.
 * (f) with `BENCH_SESSION_STORE=memory`: the same on express-session's in-process MemoryStore.
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Request } from 'express';
import { Redis } from 'ioredis';
import { announceReady, benchServerEnv } from './bench-app.js';
import { connectRedisSession, memoryStoreSession } from './express-session-setup.js';
import { plainSessionController } from './plain-session-routes.js';

@Module({
  controllers: [
    plainSessionController(async (req: Request, user: string) => {
      await new Promise<void>((resolve, reject) =>
        req.session.regenerate((err) => (err ? reject(err) : resolve())),
      );
      req.session.user = user;
      await new Promise<void>((resolve, reject) =>
        req.session.save((err) => (err ? reject(err) : resolve())),
      );
    }),
  ],
})
class AccountModule {}

const { port, redisUrl } = benchServerEnv();
const redis = process.env.BENCH_SESSION_STORE === 'memory' ? undefined : new Redis(redisUrl);
const app = await NestFactory.create<NestExpressApplication>(AccountModule, { logger: false });
app.disable('x-powered-by');
app.use(redis ? connectRedisSession(redis) : memoryStoreSession());
await app.listen(port, '127.0.0.1');
announceReady(async () => {
  await app.close();
  await redis?.quit();
});
