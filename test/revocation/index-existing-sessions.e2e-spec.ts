import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Cluster, Redis } from 'ioredis';
import {
  indexExistingSessions,
  InvalidTenantSessionOptionsError,
  SessionRevocationService,
  TenantSessionModule,
  type IndexingProgress,
} from 'nestjs-tenant-session';
import { LEGACY_PREFIX, legacyJson, writeLegacySessions } from '../support/legacy-sessions.js';
import { startRedisCluster } from '../support/redis-cluster.mjs';
import { startRedisServer, type RedisServer } from '../support/redis-server.mjs';
import {
  BUDGET_UNDER_LOAD_MS,
  createTestApp,
  TEST_HOSTS,
  TEST_SECRET,
} from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';

/**
 * `indexExistingSessions` against a real Redis and a real three-master Cluster: sessions plain
 * express-session + connect-redis left (an identity, no owner), indexed in one walk, without an
 * HTTP server; after it, `revokeAll` deletes every one of them.
 */

const PREFIX = LEGACY_PREFIX;

/** A Nest application context (no HTTP server) with the recipe's settings. */
async function applicationContext(
  redis: Redis | Cluster | string,
  adopt = true,
): Promise<INestApplicationContext> {
  @Module({
    imports: [
      TenantSessionModule.forRoot({
        tenant: { byHost: TEST_HOSTS },
        secret: TEST_SECRET,
        redis,
        appName: 'bulk',
        tenantSettings: { acme: { keyPrefix: PREFIX } },
        // As createTestApp gives its apps: pages of a thousand keys took a loaded machine past
        // the default second (a 503, dry run 8); no test here is about Redis being slow.
        operationTimeoutMs: BUDGET_UNDER_LOAD_MS,
        ...(adopt ? { adoptLegacySessions: { until: new Date(Date.now() + 86400_000) } } : {}),
      }),
    ],
  })
  class IndexingModule {}
  return NestFactory.createApplicationContext(IndexingModule, { logger: false });
}

async function countKeys(client: Redis | Cluster, pattern: string): Promise<number> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  let count = 0;
  for (const node of nodes) count += (await node.keys(pattern)).length;
  return count;
}

describe('indexExistingSessions on a single Redis', () => {
  let server: RedisServer;
  let client: Redis;
  let app: INestApplicationContext | undefined;

  beforeAll(async () => {
    server = await startRedisServer();
    client = new Redis(server.url);
  });
  afterAll(async () => {
    client.disconnect();
    await server.stop();
  });
  beforeEach(() => client.flushall());
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('a dry run counts what it would index and writes nothing', async () => {
    await writeLegacySessions(client, 10, 3, 5);
    app = await applicationContext(server.url);

    const result = await indexExistingSessions(app, { tenant: 'acme', dryRun: true });

    expect(result).toEqual({
      scanned: 35,
      indexed: 30,
      alreadyIndexed: 0,
      skippedWithoutIdentity: 5,
      refused: 0,
      done: true,
      cursor: undefined,
    });
    expect(await countKeys(client, 'sessions-index:*')).toBe(0);
  });

  it('after it, revokeAll covers every session that was in Redis', async () => {
    await writeLegacySessions(client, 100, 25, 50);
    app = await applicationContext(server.url);
    const progress: IndexingProgress[] = [];

    const result = await indexExistingSessions(app, {
      tenant: 'acme',
      keysPerSecond: 100_000,
      onProgress: (p) => progress.push(p),
    });

    expect(result).toMatchObject({ indexed: 2500, skippedWithoutIdentity: 50, done: true });
    expect(result.scanned).toBeGreaterThanOrEqual(2550);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.at(-1)).toMatchObject({ indexed: 2500, cursor: undefined });
    const sessions = app.get(SessionRevocationService);
    // Indexed, not yet sealed (no read since): listed as adopted, with no login time.
    const listed = await sessions.list('acme', 'u0');
    expect(listed.total).toBe(25);
    expect(listed.sessions).toHaveLength(25);
    expect(listed.sessions[0].createdAt).toEqual(new Date(0));
    for (let u = 0; u < 100; u++) expect(await sessions.revokeAll('acme', `u${u}`)).toBe(25);
    expect(await countKeys(client, `${PREFIX}*`)).toBe(50);
  });

  it('a user revoked before the walk is not indexed: their sessions stay refused', async () => {
    await writeLegacySessions(client, 2, 4, 0);
    app = await applicationContext(server.url);
    await app.get(SessionRevocationService).revokeAll('acme', 'u0');

    const result = await indexExistingSessions(app, { tenant: 'acme' });

    expect(result).toMatchObject({ indexed: 4, refused: 4 });
    expect(await client.exists('sessions-index:acme:bulk:u0')).toBe(1);
    expect(await client.zcard('sessions-index:acme:bulk:u0')).toBe(2); // not-before, kept-until
    // Neither reserved member is a session to list or revoke.
    expect(await app.get(SessionRevocationService).list('acme', 'u0')).toEqual({
      sessions: [],
      total: 0,
    });
    expect(await app.get(SessionRevocationService).revokeAll('acme', 'u0')).toBe(0);
  });

  it('is paced to keysPerSecond', async () => {
    await writeLegacySessions(client, 30, 100, 0);
    app = await applicationContext(server.url);
    const started = performance.now();
    const pages: number[] = [];

    const result = await indexExistingSessions(app, {
      tenant: 'acme',
      keysPerSecond: 2000,
      dryRun: true,
      onProgress: (p) => pages.push(p.scanned),
    });

    // Every page but the last waits until the keys seen so far took their share of a second.
    const paced = pages.at(-2) ?? 0;
    expect(result.scanned).toBe(3000);
    expect(performance.now() - started).toBeGreaterThanOrEqual((paced / 2000) * 1000 - 20);
  });

  it('stops on its signal and resumes from the cursor, finding every session once more', async () => {
    await writeLegacySessions(client, 30, 100, 0);
    app = await applicationContext(server.url);
    const stop = new AbortController();

    const first = await indexExistingSessions(app, {
      tenant: 'acme',
      signal: stop.signal,
      onProgress: () => stop.abort(),
    });
    expect(first.done).toBe(false);
    expect(first.cursor).toEqual({ node: expect.any(String), cursor: expect.any(String) });
    const rest = await indexExistingSessions(app, {
      tenant: 'acme',
      resume: JSON.parse(JSON.stringify(first.cursor)),
    });

    expect(rest.done).toBe(true);
    expect(first.indexed + rest.indexed + rest.alreadyIndexed).toBeGreaterThanOrEqual(3000);
    expect(await countKeys(client, 'sessions-index:acme:bulk:*')).toBe(30);
    for (let u = 0; u < 30; u++) {
      expect(await client.zcard(`sessions-index:acme:bulk:u${u}`)).toBe(100);
    }
  });

  it('refuses a tenant that does not adopt legacy sessions, naming the option', async () => {
    app = await applicationContext(server.url, false);
    await expect(indexExistingSessions(app, { tenant: 'acme' })).rejects.toThrow(
      InvalidTenantSessionOptionsError,
    );
    await expect(indexExistingSessions(app, { tenant: 'acme' })).rejects.toThrow(
      /adoptLegacySessions/,
    );
  });
});

describe('indexExistingSessions on a real Redis Cluster (three masters)', () => {
  let cluster: Awaited<ReturnType<typeof startRedisCluster>>;
  let client: Cluster;
  let app: INestApplicationContext;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    client = new Cluster(cluster.nodes);
    app = await applicationContext(client);
  }, 30_000);
  afterAll(async () => {
    await app?.close();
    await client?.quit();
    await cluster?.stop();
  });

  it('walks every master once, resumably, and then revokeAll covers every session', async () => {
    await writeLegacySessions(client, 20, 10, 10);
    const masters = new Set<string>();
    const stop = new AbortController();
    const first = await indexExistingSessions(app, {
      tenant: 'acme',
      signal: stop.signal,
      onProgress: (p) => {
        if (p.cursor) masters.add(p.cursor.node);
        stop.abort();
      },
    });
    const rest = await indexExistingSessions(app, {
      tenant: 'acme',
      resume: first.cursor,
      onProgress: (p) => p.cursor && masters.add(p.cursor.node),
    });

    expect(first.done).toBe(false);
    expect(rest.done).toBe(true);
    expect(masters.size).toBe(2); // the second and third masters, after the first
    expect(first.indexed + rest.indexed).toBe(200);
    expect(first.skippedWithoutIdentity + rest.skippedWithoutIdentity).toBe(10);
    const sessions = app.get(SessionRevocationService);
    for (let u = 0; u < 20; u++) expect(await sessions.revokeAll('acme', `u${u}`)).toBe(10);
    expect(await countKeys(client, `${PREFIX}*`)).toBe(10);
  });

  it('adopts a legacy session on its first read over HTTP too, listed with no login time', async () => {
    const sid = 'clusterlegacy000000000000000000a';
    await client.set(PREFIX + sid, legacyJson('reader'), 'EX', 86400);
    const nest = await createTestApp({
      appName: 'bulk',
      redis: client,
      tenantSettings: { acme: { keyPrefix: PREFIX } },
      adoptLegacySessions: { until: new Date(Date.now() + 86400_000) },
    });
    try {
      const visitor = Visitor.holding(nest.http, 'acme.test', sid, TEST_SECRET);

      const listed = await visitor.get('/sessions');

      expect(listed.status).toBe(200);
      expect(listed.body).toEqual([
        expect.objectContaining({ current: true, createdAt: new Date(0).toISOString() }),
      ]);
      expect(await nest.sessions.revokeAll('acme', 'reader')).toBe(1);
      expect(await client.exists(PREFIX + sid)).toBe(0);
    } finally {
      await nest.close();
    }
  });
});
