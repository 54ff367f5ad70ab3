import type { OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { SessionStoreUnavailableException } from 'nestjs-tenant-session';
import type { AttemptCount, PasswordAttempts } from './password-attempts.js';

/**
 * One attempt, in one round trip: counts it (the first opens the window) and returns the count
 * and the window's remaining ms. KEYS: the counter; ARGV: the window in ms.
 */
const COUNT = `
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {hits, redis.call('PTTL', KEYS[1])}
`;

/** The connection, with the script as a command (EVALSHA, loaded again after a restart). */
interface AttemptsRedis extends Redis {
  countAttempt(key: string, windowMs: number): Promise<[hits: number, windowLeftMs: number]>;
}

/**
 * Password attempts counted in the sessions' Redis, so every instance of the sample counts the
 * same ones: `attempts:<app>:<key>`, the key a digest (no username or address in Redis). Its own
 * connection fails fast as the module's do (no offline queue, a command timeout): a Redis that
 * does not answer is the module's 503 `SESSION_STORE_UNAVAILABLE`, never a 500 or a wait.
 */
export class RedisPasswordAttempts implements PasswordAttempts, OnApplicationShutdown {
  private readonly redis: AttemptsRedis;

  constructor(
    url: string,
    private readonly appName: string,
    timeoutMs = 1000,
  ) {
    const redis = new Redis(url, {
      connectionName: `${appName}:attempts`,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: timeoutMs,
      connectTimeout: Math.max(timeoutMs, 2000),
      retryStrategy: (attempt) => Math.min(100 * attempt, 2000),
    });
    // It reconnects by itself, and a command it cannot run answers 503: nothing to add here.
    redis.on('error', () => undefined);
    redis.defineCommand('countAttempt', { numberOfKeys: 1, lua: COUNT });
    this.redis = redis as AttemptsRedis;
  }

  async count(key: string, windowMs: number, limit: number): Promise<AttemptCount> {
    try {
      const [hits, windowLeftMs] = await this.redis.countAttempt(
        `attempts:${this.appName}:${key}`,
        windowMs,
      );
      return { refused: hits > limit, windowLeftMs: Math.max(windowLeftMs, 0) };
    } catch {
      throw new SessionStoreUnavailableException('password attempts');
    }
  }

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }
}
