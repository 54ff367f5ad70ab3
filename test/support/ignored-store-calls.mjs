// A process that calls a tenant's store without callbacks and ignores every promise, while
// Redis is unreachable, then prints "alive" and exits 0 if nothing ended it first. Node ends a
// process on an unhandled rejection, so this is how "never a crash without a callback" is seen
// from outside (jest intercepts unhandled rejections in its own process). `control` instead
// leaves a plain rejection unhandled, which must end the process: the check can fail.
// Usage: node ignored-store-calls.mjs <redis-url> calls|control. Imports the library as built.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TenantSessionModule, TenantSessionRegistry } from '../../dist/index.js';

const [url, mode] = process.argv.slice(2);

class AppModule {}
Module({
  imports: [
    TenantSessionModule.forRoot({
      tenant: { byHost: { 'acme.test': 'acme' } },
      secret: 'test-secret-0123456789-abcdefghij',
      redis: url,
      operationTimeoutMs: 200,
    }),
  ],
})(AppModule);

const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
const store = await app.get(TenantSessionRegistry).store('acme');
const session = () => ({ cookie: { originalMaxAge: 60_000 } });

if (mode === 'control') {
  void Promise.reject(new Error('a rejection nobody handles'));
} else {
  void store.get('abc');
  void store.set('abc', session());
  void store.destroy('abc');
  void store.touch('abc', session());
  void store.peek('abc');
  void store.all();
  void store.ids();
  void store.length();
  void store.clear();
}

setTimeout(() => {
  process.stdout.write('alive\n');
  process.exit(0);
}, 1000);
