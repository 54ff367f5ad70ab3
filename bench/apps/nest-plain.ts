/** (b) Nest's own cost: the same routes with no sessions and no Redis at all. */
import 'reflect-metadata';
import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
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
const app = await NestFactory.create<NestExpressApplication>(PlainModule, { logger: false });
app.disable('x-powered-by');
await app.listen(port, '127.0.0.1');
announceReady(() => app.close());
