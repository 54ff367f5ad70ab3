import { startRedisServer } from './redis-server.mjs';

// One redis-server for the whole run; suites isolate themselves by app name (the `<app>` key
// part), and suites that count commands or stop Redis start a server of their own.
export default async function globalSetup() {
  const server = await startRedisServer();
  process.env.TEST_REDIS_URL = server.url;
  globalThis.__redisServer = server;
}
