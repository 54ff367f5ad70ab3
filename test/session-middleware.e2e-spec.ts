import { createHmac } from 'node:crypto';
import { createTestApp, TEST_SECRET, type TestApp } from './support/test-app.js';
import { Visitor } from './support/visitor.js';

/**
 * The module's own session middleware (lib/session/session-middleware.ts, session-commit.ts):
 * where it takes its own path rather than express-session's, the behaviour users know is kept.
 */
const APP = 'session-middleware';
const OLD_SECRET = 'old-secret-0123456789-abcdefghijkl';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ appName: APP });
});
afterAll(() => t?.close());

function signedWith(secret: string, sid: string): string {
  const signature = createHmac('sha256', secret).update(sid).digest('base64').replace(/=+$/, '');
  return encodeURIComponent(`s:${sid}.${signature}`);
}

describe('the session middleware', () => {
  it("a rolling response's Set-Cookie carries the very cookie the request sent", async () => {
    const bob = new Visitor(t.http, 'acme.test');
    await bob.post('/login', { user: 'bob' });
    const sent = bob.cookies.get('sid')!;
    const res = await bob.get('/me');
    expect(res.status).toBe(200);
    const setCookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
    expect(setCookie).toHaveLength(1);
    expect(setCookie[0].startsWith(`sid=${sent};`)).toBe(true);
    expect(setCookie[0]).toMatch(/; Expires=.*; HttpOnly; SameSite=Lax$/);
  });

  it('a cookie signed with an older secret still opens its session, and the response re-signs it with the current secret', async () => {
    const before = await createTestApp({ appName: APP, secret: OLD_SECRET });
    const after = await createTestApp({ appName: APP, secret: [TEST_SECRET, OLD_SECRET] });
    try {
      const carol = new Visitor(before.http, 'acme.test');
      expect((await carol.post('/login', { user: 'carol' })).status).toBe(201);
      const sid = carol.sessionId()!;
      expect(carol.cookies.get('sid')).toBe(signedWith(OLD_SECRET, sid));

      const res = await carol.on(after.http).get('/me');
      expect(res.status).toBe(200);
      expect(res.body.user).toBe('carol');
      expect(carol.cookies.get('sid')).toBe(signedWith(TEST_SECRET, sid));
    } finally {
      await before.close();
      await after.close();
    }
  });

  it("outside the cookie's path a request has no session, though it carries the cookie", async () => {
    const scoped = await createTestApp({ appName: APP, cookie: { path: '/me' } });
    try {
      const dave = new Visitor(t.http, 'acme.test');
      expect((await dave.post('/login', { user: 'dave' })).status).toBe(201);
      const onScoped = dave.on(scoped.http);
      expect((await onScoped.get('/me')).body.user).toBe('dave');
      expect((await onScoped.get('/sessions')).status).toBe(401);
      expect((await dave.get('/sessions')).status).toBe(200);
    } finally {
      await scoped.close();
    }
  });
});
