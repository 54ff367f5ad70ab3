/**
 * `Cache-Control: no-store` on answers that carry or depend on a session (docs/security.md,
 * "Caching"): forced on an answer that sets or clears the session cookie, set on an answer to a
 * request that carried a verified cookie unless the app chose its own, and left alone otherwise.
 */
import { Controller, Get, Header, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import request from 'supertest';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';

/** Routes that set their own Cache-Control, with and without touching the session. */
@Controller('cached')
class CachedController {
  @Get('private')
  @Header('Cache-Control', 'private, max-age=60')
  privately() {
    return { cached: true };
  }

  @Post('public-write')
  @Header('Cache-Control', 'public, max-age=3600')
  publicWrite(@Req() req: Request) {
    req.session.visits = (req.session.visits ?? 0) + 1;
    return { visits: req.session.visits };
  }
}

describe('Cache-Control on session answers', () => {
  let app: TestApp;
  beforeAll(async () => {
    // Not rolling, so that an answer to a request with the cookie need not set it again.
    app = await createTestApp(
      { appName: 'cache-control', rolling: false },
      { controllers: [CachedController] },
    );
  });
  afterAll(() => app.close());

  const visitor = () => new Visitor(app.http, 'acme.test');

  it('an answer that sets the session cookie is no-store, even when the app said public', async () => {
    const anonymous = visitor();
    const res = await anonymous.post('/cached/public-write');
    expect(res.headers['set-cookie']).toBeDefined();
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('an answer to a request carrying the session cookie is no-store', async () => {
    const alice = visitor();
    expect((await alice.post('/login', { user: 'alice' })).headers['cache-control']).toBe(
      'no-store',
    );
    const me = await alice.get('/me');
    expect(me.headers['set-cookie']).toBeUndefined();
    expect(me.headers['cache-control']).toBe('no-store');
  });

  it("the app's own Cache-Control stands on an answer that sets no session cookie", async () => {
    const alice = visitor();
    await alice.post('/login', { user: 'alice' });
    const res = await alice.get('/cached/private');
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.headers['cache-control']).toBe('private, max-age=60');
  });

  it('a logout, which clears the cookie, is no-store', async () => {
    const alice = visitor();
    await alice.post('/login', { user: 'alice' });
    const res = await alice.post('/logout');
    expect(res.headers['set-cookie']?.[0]).toMatch(/^sid=;/);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('an answer to a request without a session cookie is left to the app', async () => {
    const res = await request(app.http).get('/cached/private').set('Host', 'acme.test');
    expect(res.headers['cache-control']).toBe('private, max-age=60');
    const me = await request(app.http).get('/me').set('Host', 'acme.test');
    expect(me.headers['cache-control']).toBeUndefined();
  });

  it('a forged cookie is no session: its answer is left to the app', async () => {
    const res = await request(app.http)
      .get('/cached/private')
      .set('Host', 'acme.test')
      .set('Cookie', `sid=${encodeURIComponent('s:forged.' + 'A'.repeat(43))}`);
    expect(res.headers['cache-control']).toBe('private, max-age=60');
  });
});
