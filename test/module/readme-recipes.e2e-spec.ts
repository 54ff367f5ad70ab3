import { Module, type INestApplication, type Type } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { PassportModule } from '@nestjs/passport';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import passport from 'passport';
import request from 'supertest';
import { SessionAuthGuard, TenantSessionModule } from 'nestjs-tenant-session';
import { TenantSessionIoAdapter } from 'nestjs-tenant-session/socket.io';
import { blockFileName, fencedBlocks } from '../../scripts/doc-blocks.mjs';
import { TEST_SECRET } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';
import { connectSocket, ending, nextException, within } from '../support/ws-app.js';

/**
 * The README's Quick start, the passport recipe, the WebSocket recipe and the health recipe as
 * ONE app, run from the docs' own code: their named ```ts blocks are extracted as
 * scripts/check-docs.mjs reads them (scripts/doc-blocks.mjs) and imported, so this test breaks
 * when the docs do. What the test adds is the glue an app writes to put them together: one
 * root module (what each page's app.module.ts says: passport's `afterSession`, the global
 * guard, health's `exclude`) and main.ts's socket adapter.
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Inside the repository (git-ignored), so the blocks' imports resolve from its node_modules. */
const work = join(root, 'test-artifacts', `readme-recipes-${process.pid}`);

/** Writes a page's named blocks under `work/<dir>` and imports one of them. */
async function fromPage<T>(page: string, dir: string, file: string): Promise<T> {
  const markdown = await readFile(join(root, page), 'utf8');
  await mkdir(join(work, dir), { recursive: true });
  let found = false;
  for (const block of fencedBlocks(markdown)) {
    const name = block.info === 'ts' ? blockFileName(block.code) : undefined;
    if (!name) continue;
    await writeFile(join(work, dir, name), block.code);
    found ||= name === file;
  }
  if (!found) throw new Error(`${page} has no block named ${file}`);
  return (await import(join(work, dir, file))) as T;
}

const HOST = 'acme.example.com';

describe('the README Quick start, passport, WebSocket and health recipes as one app', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    const { AccountController } = await fromPage<{ AccountController: Type }>(
      'README.md',
      'readme',
      'account.controller.ts',
    );
    const { AuthController, UsersService, LocalStrategy, SessionSerializer } = await fromPage<
      Record<'AuthController' | 'UsersService' | 'LocalStrategy' | 'SessionSerializer', Type>
    >('docs/recipes/passport.md', 'passport', 'app.module.ts');
    const { ChatGateway } = await fromPage<{ ChatGateway: Type }>(
      'docs/recipes/websockets.md',
      'websockets',
      'chat.gateway.ts',
    );
    const { HealthModule } = await fromPage<{ HealthModule: Type }>(
      'docs/recipes/health-checks.md',
      'health',
      'health.module.ts',
    );

    @Module({
      imports: [
        PassportModule.register({ session: true }),
        TenantSessionModule.forRoot({
          tenant: { bySubdomain: 'example.com' },
          appName: 'readme-recipes',
          redis: process.env.TEST_REDIS_URL,
          secret: TEST_SECRET,
          afterSession: [passport.session()],
          exclude: ['health'],
        }),
        HealthModule,
      ],
      controllers: [AccountController, AuthController],
      providers: [
        UsersService,
        LocalStrategy,
        SessionSerializer,
        ChatGateway,
        { provide: APP_GUARD, useClass: SessionAuthGuard },
      ],
    })
    class AppModule {}

    const nest = await NestFactory.create<NestExpressApplication>(AppModule, {
      logger: process.env.TEST_LOGS ? undefined : false,
    });
    nest.useWebSocketAdapter(new TenantSessionIoAdapter(nest));
    await nest.listen(0, '127.0.0.1');
    app = nest;
    url = `http://127.0.0.1:${(nest.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app?.close();
    await rm(work, { recursive: true, force: true });
  });

  it('logs in through the passport route past the global guard, then reads, talks and logs out', async () => {
    const browser = new Visitor(url, HOST);
    expect((await browser.get('/me')).status).toBe(401); // the global guard

    const login = await browser.post('/auth/login', { username: 'alice', password: 'alice-pass' });
    expect(login.status).toBe(201);
    expect(login.body).toEqual({ id: 'u1', username: 'alice' });

    expect((await browser.get('/auth/me')).body).toEqual({ id: 'u1', username: 'alice' });
    expect((await browser.get('/me')).body).toEqual({ tenant: 'acme' }); // the Quick start's
    const devices = await browser.get('/me/sessions');
    expect(devices.status).toBe(200);
    expect(JSON.stringify(devices.body)).toContain('"current":true');

    const socket = await connectSocket(url, { host: HOST, cookie: browser.cookieHeader });
    try {
      expect(await socket.timeout(10_000).emitWithAck('say', 'hello')).toEqual({
        tenant: 'acme',
        from: 'u1',
        text: 'hello',
      });
      const ended = ending(socket);
      expect((await browser.post('/auth/logout')).body).toEqual({ ok: true });
      expect((await within(10_000, ended, 'the live sign-out')).ended).toEqual({
        reason: 'logout',
      });
    } finally {
      socket.close();
    }
    expect((await browser.get('/me')).status).toBe(401);
  });

  it('refuses a wrong password with 401, and a socket without a session answers "Login required"', async () => {
    const stranger = new Visitor(url, HOST);
    const login = await stranger.post('/auth/login', { username: 'alice', password: 'wrong' });
    expect(login.status).toBe(401);
    const socket = await connectSocket(url, { host: HOST });
    try {
      const refused = nextException(socket);
      socket.emit('say', 'hello');
      expect(await within(10_000, refused, 'the refusal')).toMatchObject({
        message: 'Login required',
      });
    } finally {
      socket.close();
    }
  });

  it('answers the health check by IP address, with no tenant and no cookie', async () => {
    const res = await request(url).get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', info: { sessions: { status: 'up' } } });
    expect(res.headers['set-cookie']).toBeUndefined();
  });
});
