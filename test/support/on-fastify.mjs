// The fastify project's setup (jest.config.js): the suite's test apps run on Fastify, on a
// redis-server of the suite's own, since the express project runs the same file, with the same
// app names and keys, at the same time.
import { startRedisServer } from './redis-server.mjs';

process.env.TEST_PLATFORM = 'fastify';
let server;
beforeAll(async () => {
  server = await startRedisServer();
  process.env.TEST_REDIS_URL = server.url;
});
afterAll(() => server?.stop());
