import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionRevokedEvent } from 'nestjs-tenant-session';
import { runCli } from '../support/cli-process.js';
import { useOwnRedisServer } from '../support/own-redis.js';
import { freePort, startRedisServer, type RedisServer } from '../support/redis-server.mjs';
import { createTestApp, TEST_SECRET, type TestApp } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';

const APP = 'cli';

/**
 * The operators' CLI as a user runs it: the built `nestjs-tenant-session` in a child process,
 * against a real Redis that a real app (in this process) logs users in on.
 */
describe('nestjs-tenant-session CLI (built, real Redis)', () => {
  const own = useOwnRedisServer();
  let t: TestApp;
  let dir: string;
  let config: string;
  const revocations: SessionRevokedEvent[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tenant-session-cli-'));
    config = join(dir, 'tenant-session.config.mjs');
    await writeFile(
      config,
      `export default { secret: ${JSON.stringify(TEST_SECRET)}, appName: '${APP}', ` +
        `redis: ${JSON.stringify(own.server.url)} };\n`,
    );
  });
  beforeEach(async () => {
    revocations.length = 0;
    t = await createTestApp({
      appName: APP,
      redis: own.server.url,
      onRevoked: (event) => void revocations.push(event),
    });
  });
  afterEach(() => t.close());
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const loginAs = async (user: string, host = 'acme.test', agent = 'jest-visitor') => {
    const visitor = new Visitor(t.http, host, agent);
    expect((await visitor.post('/login', { user })).status).toBe(201);
    return visitor;
  };
  const cli = (...args: string[]) => runCli(['--config', config, ...args]);

  describe('sessions list', () => {
    it("lists a user's sessions after logins through the app, each id masked", async () => {
      const phone = await loginAs('alice', 'acme.test', 'phone-browser');
      const laptop = await loginAs('alice', 'acme.test', 'laptop-browser');
      await loginAs('bob');
      const handles = (await t.sessions.list('acme', 'alice')).sessions.map((s) => s.id);

      const run = await cli('sessions', 'list', '--tenant', 'acme', '--user', 'alice', '--json');

      expect(run).toMatchObject({ code: 0, stderr: '' });
      const listed = JSON.parse(run.stdout);
      expect(listed).toMatchObject({ tenant: 'acme', user: 'alice', total: 2 });
      expect(listed.sessions.map((s: { userAgent: string }) => s.userAgent)).toEqual([
        'phone-browser',
        'laptop-browser',
      ]);
      expect(listed.sessions.map((s: { id: string }) => s.id)).toEqual(
        handles.map((h) => `${h.slice(0, 4)}…`),
      );
      for (const secret of [phone.sessionId()!, laptop.sessionId()!, ...handles]) {
        expect(run.stdout).not.toContain(secret);
      }
      expect(Object.keys(listed.sessions[0]).sort()).toEqual(
        [
          'absoluteExpiresAt',
          'authenticatedAt',
          'createdAt',
          'device',
          'expiresAt',
          'id',
          'ip',
          'lastSeenAt',
          'userAgent',
        ].sort(),
      );
    });

    it('prints a table for people, ids masked there too', async () => {
      const visitor = await loginAs('alice', 'acme.test', 'phone-browser');
      const [handle] = (await t.sessions.list('acme', 'alice')).sessions.map((s) => s.id);

      const run = await cli('sessions', 'list', '--tenant', 'acme', '--user', 'alice');

      expect(run.code).toBe(0);
      const lines = run.stdout.trimEnd().split('\n');
      expect(lines[0]).toBe('1 live session(s) of user alice in tenant acme');
      expect(lines[1]).toMatch(/^ID\s+LOGIN\s+LAST SEEN\s+EXPIRES\s+IP\s+USER AGENT$/);
      expect(lines[2]).toMatch(new RegExp(`^${handle.slice(0, 4)}… .*phone-browser$`));
      expect(run.stdout).not.toContain(handle);
      expect(run.stdout).not.toContain(visitor.sessionId()!);
    });

    it("refuses to list without the app's secret (owners cannot be verified): exit code 2", async () => {
      await loginAs('alice');
      const run = await runCli([
        'sessions',
        'list',
        '--tenant',
        'acme',
        '--user',
        'alice',
        '--redis-url',
        own.server.url,
      ]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('secret');
      expect(run.stdout).toBe('');
    });
  });

  describe('revoke', () => {
    it("ends every session of the user through the module's protocol: the app answers 401", async () => {
      const phone = await loginAs('alice');
      const laptop = await loginAs('alice');
      const bob = await loginAs('bob');

      const run = await cli('revoke', '--tenant', 'acme', '--user', 'alice', '--json');

      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({ tenant: 'acme', user: 'alice', revoked: 2 });
      expect((await phone.get('/me')).status).toBe(401);
      expect((await laptop.get('/me')).status).toBe(401);
      expect((await bob.get('/me')).status).toBe(200);
      // The not-before marker refuses logins that began before the revocation.
      expect(await own.redis.zscore(`sessions-index:acme:${APP}:alice`, '!not-before')).not.toBe(
        null,
      );
      // The app's instances heard of it over Redis, as of a revocation made by another instance.
      expect(revocations).toEqual([
        expect.objectContaining({ tenant: 'acme', userId: 'alice', reason: 'user', revoked: 2 }),
      ]);
      expect(revocations[0].remote).toBe(true);
    });

    it('says what it did in words without --json', async () => {
      await loginAs('alice');
      const run = await cli('revoke', '--tenant', 'acme', '--user', 'alice');
      expect(run).toMatchObject({
        code: 0,
        stdout: 'Revoked 1 session(s) of user alice in tenant acme\n',
      });
    });
  });

  describe('revoke-tenant', () => {
    it('refuses without --yes when not on a terminal, and leaves every session alone', async () => {
      const alice = await loginAs('alice');
      const run = await cli('revoke-tenant', '--tenant', 'acme');
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('pass --yes');
      expect((await alice.get('/me')).status).toBe(200);
    });

    it("with --yes, ends every session of the tenant and no other tenant's", async () => {
      const alice = await loginAs('alice');
      const bob = await loginAs('bob');
      const globex = await loginAs('carol', 'globex.test');

      const run = await cli('revoke-tenant', '--tenant', 'acme', '--yes', '--json');

      expect(run.code).toBe(0);
      // Two sessions and two indexes.
      expect(JSON.parse(run.stdout)).toEqual({ tenant: 'acme', removedKeys: 4 });
      expect((await alice.get('/me')).status).toBe(401);
      expect((await bob.get('/me')).status).toBe(401);
      expect((await globex.get('/me')).status).toBe(200);
      expect(revocations).toEqual([
        expect.objectContaining({ tenant: 'acme', reason: 'tenant', remote: true }),
      ]);
    });

    it('on a terminal, revokes once the tenant id is typed back', async () => {
      const alice = await loginAs('alice');
      const run = await runCli(['--config', config, 'revoke-tenant', '--tenant', 'acme'], {
        terminal: true,
        answer: 'acme',
      });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('Type "acme" to confirm');
      expect(run.stdout).toContain('Revoked tenant acme: 2 key(s) removed');
      expect((await alice.get('/me')).status).toBe(401);
    });

    it('on a terminal, does nothing when the answer is not the tenant id: exit code 1', async () => {
      const alice = await loginAs('alice');
      const run = await runCli(['--config', config, 'revoke-tenant', '--tenant', 'acme'], {
        terminal: true,
        answer: 'y',
      });
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('not confirmed: nothing was done');
      expect((await alice.get('/me')).status).toBe(200);
    });
  });

  describe('stats', () => {
    it('counts sessions, indexes and entries per tenant, and reports Redis memory', async () => {
      await loginAs('alice');
      await loginAs('alice');
      await loginAs('bob');
      await loginAs('carol', 'globex.test');

      const run = await cli('stats', '--json');

      expect(run.code).toBe(0);
      const { deployments } = JSON.parse(run.stdout);
      expect(deployments).toHaveLength(1);
      expect(deployments[0].deployment).toBe('default');
      expect(deployments[0].tenants).toEqual([
        { tenant: 'acme', sessions: 3, indexes: 2, indexEntries: 3 },
        { tenant: 'globex', sessions: 1, indexes: 1, indexEntries: 1 },
      ]);
      const [memory] = deployments[0].memory;
      const info = await own.redis.info('memory');
      const used = Number(/^used_memory:(\d+)/m.exec(info)![1]);
      expect(memory).toMatchObject({
        server: `127.0.0.1:${own.server.port}`,
        maxBytes: 0,
        policy: 'noeviction',
      });
      // Within 1 MiB of what Redis reports a moment later (the CLI's own connection counts).
      expect(Math.abs(memory.usedBytes - used)).toBeLessThan(1 << 20);
    });

    it('counts one tenant with --tenant, and prints tables without --json', async () => {
      await loginAs('alice');
      await loginAs('carol', 'globex.test');

      const one = await cli('stats', '--tenant', 'globex', '--json');
      expect(one.code).toBe(0);
      expect(JSON.parse(one.stdout)).toEqual({
        tenant: 'globex',
        sessions: 1,
        indexes: 1,
        indexEntries: 1,
      });

      const text = await cli('stats');
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/^Deployment default\n/);
      expect(text.stdout).toMatch(/^ {2}127\.0\.0\.1:\d+: [\d.]+ MiB used of no limit/m);
      expect(text.stdout).toMatch(/^acme\s+1\s+1\s+1$/m);
      expect(text.stdout).toMatch(/^globex\s+1\s+1\s+1$/m);
    });
  });

  describe('configuration', () => {
    it('reads a JSON config file, with --redis-url over its redis', async () => {
      await loginAs('alice');
      const json = join(dir, 'tenant-session.json');
      await writeFile(
        json,
        JSON.stringify({ secret: TEST_SECRET, appName: APP, redis: 'redis://127.0.0.1:1' }),
      );
      const run = await runCli(
        ['--config', json, '--redis-url', own.server.url, 'sessions', 'list', '--json'].concat([
          '--tenant',
          'acme',
          '--user',
          'alice',
        ]),
      );
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout).total).toBe(1);
    });

    it('refuses to run without a Redis rather than use an empty in-process store: exit code 2', async () => {
      const run = await runCli(['stats']);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--redis-url');
    });

    it('names the problem of a config file that cannot be loaded: exit code 2', async () => {
      const missing = await runCli(['--config', join(dir, 'absent.mjs'), 'stats']);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('absent.mjs');
      const invalid = join(dir, 'invalid.mjs');
      await writeFile(
        invalid,
        `export default { redis: ${JSON.stringify(own.server.url)}, appName: 'Not Valid' };\n`,
      );
      const run = await runCli(['--config', invalid, 'stats']);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('appName');
    });
  });

  describe('deployments, from the config file', () => {
    let eu: RedisServer;
    let placed: string;

    beforeAll(async () => {
      eu = await startRedisServer();
      placed = join(dir, 'placed.config.mjs');
      const options = {
        secret: TEST_SECRET,
        appName: APP,
        redis: own.server.url,
        deployments: { eu: eu.url },
        tenantSettings: { globex: { deployment: 'eu' } },
      };
      await writeFile(placed, `export default () => (${JSON.stringify(options)});\n`);
    });
    afterAll(() => eu.stop());

    it("lists, revokes and counts a tenant on its own deployment's Redis", async () => {
      await t.close();
      t = await createTestApp({
        appName: APP,
        redis: own.server.url,
        deployments: { eu: eu.url },
        tenantSettings: { globex: { deployment: 'eu' } },
      });
      const carol = await loginAs('carol', 'globex.test');
      const alice = await loginAs('alice');
      const run = (...args: string[]) => runCli(['--config', placed, '--json', ...args]);

      const listed = await run('sessions', 'list', '--tenant', 'globex', '--user', 'carol');
      expect(JSON.parse(listed.stdout).total).toBe(1);
      const stats = JSON.parse((await run('stats')).stdout);
      expect(
        stats.deployments.map((d: { deployment: string; tenants: { tenant: string }[] }) => [
          d.deployment,
          d.tenants.map((tenant) => tenant.tenant),
        ]),
      ).toEqual([
        ['default', ['acme']],
        ['eu', ['globex']],
      ]);
      expect(stats.deployments[1].memory[0].server).toBe(`127.0.0.1:${eu.port}`);

      const revoked = await run('revoke', '--tenant', 'globex', '--user', 'carol');
      expect(JSON.parse(revoked.stdout).revoked).toBe(1);
      expect((await carol.get('/me')).status).toBe(401);
      expect((await alice.get('/me')).status).toBe(200);
    });
  });

  describe('exit codes', () => {
    it.each([
      ['an unknown command', ['frobnicate']],
      ['a missing --tenant', ['revoke', '--user', 'alice']],
      ['a malformed tenant id', ['revoke', '--tenant', 'Acme Corp', '--user', 'alice']],
      ['a malformed --timeout', ['--timeout', 'soon', 'stats']],
      ['no command at all', []],
    ])('answers %s with exit code 2 and the usage, connecting nowhere', async (_, args) => {
      const run = await runCli(args);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--help');
    });

    it('answers a user id the module refuses with exit code 2', async () => {
      const run = await cli('revoke', '--tenant', 'acme', '--user', 'x'.repeat(2000), '--json');
      expect(run.code).toBe(2);
      expect(JSON.parse(run.stderr).error.code).toBe('INVALID_USER_ID');
    });

    it('fails fast with exit code 3 when Redis is down', async () => {
      const down = `redis://127.0.0.1:${await freePort()}`;
      const run = await runCli(
        [
          '--redis-url',
          down,
          '--timeout',
          '200',
          'revoke',
          '--tenant',
          'acme',
          '--user',
          'alice',
        ].concat('--json'),
      );
      expect(run.code).toBe(3);
      expect(JSON.parse(run.stderr).error.code).toBe('SESSION_STORE_UNAVAILABLE');
      expect(run.stdout).toBe('');
      // Start-up waits 5 operation timeouts for Redis (1 s here); then the command fails at once.
      expect(run.ms).toBeLessThan(5000);
    });

    it('answers --help and --version with exit code 0', async () => {
      const help = await runCli(['--help']);
      expect(help.code).toBe(0);
      for (const command of ['sessions', 'revoke', 'revoke-tenant', 'stats', 'index']) {
        expect(help.stdout).toContain(command);
      }
      const version = await runCli(['--version']);
      expect(version).toMatchObject({ code: 0, stdout: '1.0.0\n' });
    });
  });
});
