/**
 * (b) Nest's own cost: the same routes with no sessions and no Redis at all; with
 * `BENCH_PLATFORM=fastify`, (r), the same on `FastifyAdapter`: the ceiling (p) is measured against.
 */
import 'reflect-metadata';
import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { announceReady, benchServerEnv } from './bench-app.js';

@Controller()
class PlainController {
  private count = 0;

  @Post('login')
  login(@Body() body: { user: string }) {
    return { user: body.user };
  }

  @Get('me')
  me() {
    return { user: 'alice', tenant: 'default', count: this.count };
  }

  @Post('increment')
  increment() {
    return { count: ++this.count };
  }
}

@Module({ controllers: [PlainController] })
class PlainModule {}

const { port } = benchServerEnv();
const onFastify = process.env.BENCH_PLATFORM === 'fastify';
const app = onFastify
  ? await NestFactory.create(PlainModule, new FastifyAdapter(), { logger: false })
  : await NestFactory.create(PlainModule, { logger: false });
// Express names itself in a header on every answer; Fastify does not.
if (!onFastify) app.getHttpAdapter().getInstance().disable('x-powered-by');
await app.listen(port, '127.0.0.1');
announceReady(() => app.close());
