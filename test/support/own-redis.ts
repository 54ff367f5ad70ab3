import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from './redis-server.mjs';

/**
 * Gives the calling suite a redis-server of its own (for suites that count every command the
 * server runs), flushed before each test. Call at the top of a `describe`.
 */
export function useOwnRedisServer(): { readonly server: RedisServer; readonly redis: Redis } {
  const own = {} as { server: RedisServer; redis: Redis };
  beforeAll(async () => {
    own.server = await startRedisServer();
    own.redis = new Redis(own.server.url);
  });
  afterAll(async () => {
    own.redis.disconnect();
    await own.server.stop();
  });
  beforeEach(() => own.redis.flushall());
  return own;
}
