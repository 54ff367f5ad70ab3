import { jest } from '@jest/globals';
import { Body, Controller, Get, Post, Req, UseGuards } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import type { Request } from 'express';
import { Redis } from 'ioredis';
import { EventEmitter, once } from 'node:events';
import {
  SessionAuthGuard,
  SessionLoginService,
  SessionRevocationService,
  SessionUserId,
  TenantSessionModule,
} from 'nestjs-tenant-session';
import { Deployments } from '../../lib/store/deployments.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.mjs';
import { TEST_HOSTS, TEST_SECRET } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';

const APP = 'clock';
const IDLE_TTL_MS = 2000;
const HOUR_MS = 3_600_000;
/**
 * How long a racing login takes between its request arriving and storing its session: the
 * revocation the test makes meanwhile (on another instance) must land within it, also on a
 * machine busy with other suites.
 */
const SLOW_LOGIN_MS = 1500;

const realNow = Date.now;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Emits 'login' when a login request reaches its handler (it began when it arrived). */
const loginsBegun = new EventEmitter();

/** Logins that may take a while before they store anything (think: a slow password hash). */
@Controller()
class ClockTestController {
  constructor(private readonly logins: SessionLoginService) {}

  @Post('login')
  async login(@Req() req: Request, @Body() body: { user: string; delayMs?: number }) {
    loginsBegun.emit('login');
    if (body.delayMs) await sleep(body.delayMs);
    await this.logins.login(req, body.user);
    return { user: body.user };
  }

  @Get('me')
  @UseGuards(SessionAuthGuard)
  me(@SessionUserId() user: string) {
    return { user };
  }
}

interface Instance {
  http: ReturnType<NestExpressApplication['getHttpServer']>;
  sessions: SessionRevocationService;
  /** This instance's estimate of the Redis server's clock. */
  now(): number;
  close(): Promise<void>;
}

/** One app instance on `url`; several with the same app name share sessions. */
async function startInstance(url: string): Promise<Instance> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      TenantSessionModule.forRoot({
        tenant: { byHost: TEST_HOSTS },
        secret: TEST_SECRET,
        redis: url,
        appName: APP,
        idleTtl: IDLE_TTL_MS / 1000,
      }),
    ],
    controllers: [ClockTestController],
  }).compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({
    logger: process.env.TEST_LOGS ? undefined : false,
  });
  await app.init();
  const backend = app.get(Deployments).get();
  return {
    http: app.getHttpServer(),
    sessions: app.get(SessionRevocationService),
    now: () => backend.lifecycle.now(),
    close: () => app.close(),
  };
}

/** From now on (until restored after the test) this process's wall clock is off by `shiftMs`. */
function shiftClock(shiftMs: number): void {
  jest.spyOn(Date, 'now').mockImplementation(() => realNow() + shiftMs);
}

describe("lease and not-before decisions do not depend on the app's clock", () => {
  let server: RedisServer;
  let redis: Redis;
  const instances: Instance[] = [];

  beforeAll(async () => {
    server = await startRedisServer();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });
  beforeEach(() => redis.flushall());
  afterEach(async () => {
    jest.restoreAllMocks();
    await Promise.all(instances.splice(0).map((instance) => instance.close()));
  });

  const start = async () => {
    const instance = await startInstance(server.url);
    instances.push(instance);
    return instance;
  };
  const sessionKey = (visitor: Visitor) => `sessions:acme:${APP}:${visitor.sessionId()}`;
  const indexKey = (user: string) => `sessions-index:acme:${APP}:${user}`;

  /** Redis' own clock and, by it, when the session expires and what its index entry says. */
  async function leaseAndExpiry(visitor: Visitor, user: string) {
    const replies = (await redis
      .multi()
      .time()
      .pttl(sessionKey(visitor))
      .zscore(indexKey(user), visitor.sessionId()!)
      .pttl(indexKey(user))
      .exec())!.map(([error, reply]) => {
      if (error) throw error;
      return reply;
    });
    const [[seconds, micros], sessionTtl, lease, indexTtl] = replies as [
      [string, string],
      number,
      string | null,
      number,
    ];
    const serverNow = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    return { sessionTtl, expiresAt: serverNow + sessionTtl, lease: Number(lease), indexTtl };
  }

  it.each([
    ['3 idle TTLs behind', -3 * IDLE_TTL_MS],
    ['an hour ahead', HOUR_MS],
  ])(
    'a session kept alive by reads stays indexed past its lease and is revoked (app clock %s)',
    async (_, shiftMs) => {
      // Before the app exists: it measures its offset to Redis TIME at start-up.
      shiftClock(shiftMs);
      const app = await start();
      expect(Math.abs(app.now() - realNow())).toBeLessThan(1000);
      const visitor = new Visitor(app.http, 'acme.test');
      expect((await visitor.post('/login', { user: 'alice' })).status).toBe(201);

      // Kept alive by reads well past the first lease (3 idle TTLs).
      const until = realNow() + 3 * IDLE_TTL_MS + 1500;
      let reads = 0;
      while (realNow() < until) {
        expect((await visitor.get('/me')).status).toBe(200);
        reads++;
        const { sessionTtl, expiresAt, lease, indexTtl } = await leaseAndExpiry(visitor, 'alice');
        expect(sessionTtl).toBeGreaterThan(0);
        // The index entry outlives the session, and so does the index key.
        expect(lease).toBeGreaterThanOrEqual(expiresAt);
        expect(indexTtl).toBeGreaterThanOrEqual(sessionTtl);
        await sleep(IDLE_TTL_MS / 8);
      }
      expect(reads).toBeGreaterThan(10);

      expect(await app.sessions.revokeAll('acme', 'alice')).toBe(1);

      expect((await visitor.get('/me')).status).toBe(401);
      expect(await redis.keys(`sessions:acme:${APP}:*`)).toEqual([]);
    },
    20_000,
  );

  it.each([
    ['an hour ahead', HOUR_MS],
    ['an hour behind', -HOUR_MS],
  ])(
    'a revocation on one instance refuses logins in flight on another whose clock is %s',
    async (_, shiftMs) => {
      const a = await start();
      shiftClock(shiftMs);
      const b = await start();
      // A read the Redis clock before the shift, B after it. Their wall clocks now disagree by
      // the shift; their estimates of the Redis clock still agree (each counts from its reading
      // by the monotonic clock), so no decision follows the jump.
      expect(Math.abs(Date.now() - realNow() - shiftMs)).toBeLessThan(1000);
      expect(Math.abs(a.now() - b.now())).toBeLessThan(1000);
      let previous = new Visitor(a.http, 'acme.test');
      expect((await previous.post('/login', { user: 'alice' })).status).toBe(201);

      for (let round = 0; round < 3; round++) {
        const racing = new Visitor(b.http, 'acme.test');
        const begun = once(loginsBegun, 'login');
        const inFlight = racing.post('/login', { user: 'alice', delayMs: SLOW_LOGIN_MS });
        await begun;
        await sleep(50);

        expect(await a.sessions.revokeAll('acme', 'alice')).toBe(1);
        const refused = await inFlight;

        expect(refused.status).toBe(401);
        expect(refused.body.code).toBe('LOGIN_REVOKED');
        expect(refused.headers['set-cookie']).toBeUndefined();
        expect((await racing.get('/me')).status).toBe(401);
        expect((await previous.get('/me')).status).toBe(401);
        expect(await redis.keys(`sessions:acme:${APP}:*`)).toEqual([]);

        // A login that began after the revocation is admitted, and works on both instances.
        const after = new Visitor(b.http, 'acme.test');
        expect((await after.post('/login', { user: 'alice', delayMs: SLOW_LOGIN_MS })).status).toBe(
          201,
        );
        expect((await after.get('/me')).body).toEqual({ user: 'alice' });
        expect((await after.on(a.http).get('/me')).body).toEqual({ user: 'alice' });
        expect((await a.sessions.list('acme', 'alice')).sessions).toHaveLength(1);
        previous = after;
      }
    },
    30_000,
  );
});
