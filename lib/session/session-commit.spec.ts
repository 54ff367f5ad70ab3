import { HttpException, HttpStatus } from '@nestjs/common';
import type { CookieOptions } from 'express-session';
import { LoginRevokedException } from '../errors/login-revoked.exception.js';
import { MemoryBackend } from '../store/memory/memory-backend.js';
import { getRequestFacts } from './request-facts.js';
import { failureAnswer, type SessionCommit } from './session-commit.js';
import { signedCookieValue, unsignedSessionId } from './session-cookie.js';
import type { SessionRequest } from './session-request.js';
import { markSaveFailed } from './session-state.js';
import {
  quietNestLogger,
  SPEC_SECRET,
  SPEC_TTL_MS,
  specBudget,
  specRequest,
  specTenant,
  type SpecTenantOverrides,
} from './tenant-sessions.fixture.js';
import type { TenantSessions } from './tenant-sessions.js';

const OLD_SECRET = 'commit-spec-old-secret-0123456789ab';
/** The module takes `sameSite: 'auto'` (decided per request); express-session's types do not. */
const AUTO = 'auto' as unknown as CookieOptions['sameSite'];

type Work = Exclude<ReturnType<SessionCommit['work']>, 'drop' | undefined>;
const run = (work: Work) =>
  new Promise<void>((resolve, reject) => work((error) => (error ? reject(error) : resolve())));

describe('SessionCommit', () => {
  let backend: MemoryBackend;

  quietNestLogger();
  beforeEach(() => (backend = new MemoryBackend()));
  afterEach(() => backend.close());

  /** Two secrets (one rotated out), and a cookie with every attribute an answer shows. */
  const tenantWith = (overrides: SpecTenantOverrides = {}) =>
    specTenant(backend, {
      secrets: [SPEC_SECRET, OLD_SECRET],
      cookie: { path: '/', httpOnly: true, sameSite: 'lax', secure: 'auto', maxAge: SPEC_TTL_MS },
      ...overrides,
    });

  /** A request through the tenant's loader, as the middleware makes it. */
  async function load(
    tenant: TenantSessions,
    cookie?: string,
    secure = false,
  ): Promise<{ req: SessionRequest; commit: SessionCommit }> {
    const req = specRequest({ cookie, secure });
    const commit = (await tenant.loader.load(req, '/', specBudget()))!;
    return { req, commit };
  }

  /** A session stored by an earlier request; the cookie header its browser sends back. */
  async function storedSession(
    tenant: TenantSessions,
    secret = SPEC_SECRET,
  ): Promise<{ sid: string; header: string }> {
    const { req, commit } = await load(tenant);
    req.session!.theme = 'dark';
    await run(commit.work() as Work);
    const sid = req.sessionID!;
    return { sid, header: `sid=${encodeURIComponent(signedCookieValue(sid, secret))}` };
  }

  const cookieValueIn = (line: string) =>
    decodeURIComponent(line.split(';')[0].slice('sid='.length));

  describe('work: what must reach the store before the response ends', () => {
    it('is nothing for a new session nobody changed (saveUninitialized off), and no cookie', async () => {
      const { commit } = await load(tenantWith());

      expect(commit.work()).toBeUndefined();
      expect(commit.cookieLine(200)).toBeUndefined();
      expect(backend.tables.sessions.size).toBe(0);
    });

    it('saves a new session nobody changed when saveUninitialized is on', async () => {
      const { req, commit } = await load(tenantWith({ saveUninitialized: true }));

      await run(commit.work() as Work);

      expect(backend.tables.sessions.size).toBe(1);
      expect(cookieValueIn(commit.cookieLine(200)!)).toBe(
        signedCookieValue(req.sessionID!, SPEC_SECRET),
      );
    });

    it('saves a changed session, whose answer then carries a cookie signed for it', async () => {
      const tenant = tenantWith();
      const { req, commit } = await load(tenant);
      req.session!.theme = 'dark';

      await run(commit.work() as Work);

      const line = commit.cookieLine(200)!;
      expect(unsignedSessionId(cookieValueIn(line), [SPEC_SECRET])).toBe(req.sessionID);
      expect(line).toMatch(/; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/);
      expect(await tenant.reader.read(req.sessionID!, specBudget())).toMatchObject({
        theme: 'dark',
      });
    });

    it('is nothing for a loaded session left unchanged, whose load restarted its TTL just now', async () => {
      const tenant = tenantWith();
      const { header } = await storedSession(tenant);
      const { commit } = await load(tenant, header);

      expect(commit.work()).toBeUndefined();
    });

    it("is the store's touch for a loaded session whose max-age changed without its data", async () => {
      const tenant = tenantWith();
      const { sid, header } = await storedSession(tenant);
      const { req, commit } = await load(tenant, header);
      req.session!.cookie.maxAge = 5 * SPEC_TTL_MS;

      await run(commit.work() as Work);

      const ttl = backend.tables.sessions.get(tenant.keys.session(sid))!.expiresAt - backend.now();
      expect(ttl).toBeGreaterThan(4 * SPEC_TTL_MS);
    });

    it('saves a session regenerated during the request, though nothing changed in it', async () => {
      const tenant = tenantWith();
      const { header } = await storedSession(tenant);
      const { req, commit } = await load(tenant, header);
      await new Promise<void>((resolve, reject) =>
        req.sessionStore!.regenerate(req as never, (error) => (error ? reject(error) : resolve())),
      );

      await run(commit.work() as Work);

      expect(await tenant.reader.read(req.sessionID!, specBudget())).not.toBeNull();
      expect(commit.cookieLine(200)).toBeDefined();
    });

    it("is 'drop' for a session whose save failed already, which then gets no cookie", async () => {
      const { req, commit } = await load(tenantWith());
      req.session!.theme = 'dark';
      markSaveFailed(req.session!);

      expect(commit.work()).toBe('drop');
      commit.drop();
      expect(req.session).toBeUndefined();
      expect(commit.cookieLine(200)).toBeUndefined();
    });

    it('is nothing for a request left without a session (a logout)', async () => {
      const { req, commit } = await load(tenantWith());
      req.session = undefined;

      expect(commit.work()).toBeUndefined();
    });
  });

  describe('cookieLine: the Set-Cookie an answer carries', () => {
    it('goes on no error answer, and on a redirect', async () => {
      const { req, commit } = await load(tenantWith());
      req.session!.theme = 'dark';
      await run(commit.work() as Work);

      expect(commit.cookieLine(500)).toBeUndefined();
      expect(commit.cookieLine(401)).toBeUndefined();
      expect(commit.cookieLine(302)).toBeDefined();
    });

    it('carries the cookie it came with again for a loaded session (rolling)', async () => {
      const tenant = tenantWith();
      const { sid, header } = await storedSession(tenant);
      const { commit } = await load(tenant, header);

      expect(commit.cookieLine(200)?.split(';')[0]).toBe(header);
      expect(unsignedSessionId(cookieValueIn(commit.cookieLine(200)!), [SPEC_SECRET])).toBe(sid);
    });

    it('signs anew with the current secret a cookie signed with a rotated-out one', async () => {
      const tenant = tenantWith();
      const { sid, header } = await storedSession(tenant, OLD_SECRET);
      const { commit } = await load(tenant, header);

      const value = cookieValueIn(commit.cookieLine(200)!);
      expect(value).toBe(signedCookieValue(sid, SPEC_SECRET));
    });

    it('with rolling off, goes only with a loaded session that changed', async () => {
      const tenant = tenantWith({ rolling: false });
      const { header } = await storedSession(tenant);
      const quiet = await load(tenant, header);
      expect(quiet.commit.cookieLine(200)).toBeUndefined();

      const busy = await load(tenant, header);
      busy.req.session!.theme = 'light';
      expect(busy.commit.cookieLine(200)).toBeDefined();
    });

    it('with rolling off, does not send a browser-session cookie (no expiry) again, though it changed', async () => {
      const tenant = tenantWith({ rolling: false, cookie: { path: '/', httpOnly: true } });
      const { header } = await storedSession(tenant);
      const { req, commit } = await load(tenant, header);
      req.session!.theme = 'light';

      expect(commit.cookieLine(200)).toBeUndefined();
    });

    it('never carries a Secure cookie on a plain-HTTP answer; an HTTPS one does', async () => {
      const tenant = tenantWith();
      const plain = await load(tenant, undefined, false);
      plain.req.session!.theme = 'dark';
      plain.req.session!.cookie.secure = true;
      expect(plain.commit.cookieLine(200)).toBeUndefined();

      const secure = await load(tenant, undefined, true);
      secure.req.session!.theme = 'dark';
      expect(secure.commit.cookieLine(200)).toMatch(/; Secure/);
    });

    it("is a logout's clearing cookie, with the cookie's attributes, on a success answer only", async () => {
      const { req, commit } = await load(tenantWith(), undefined, true);
      // As logout() leaves the request: no session, and the cookie to clear.
      req.session = undefined;
      getRequestFacts(req)!.signedOut = true;

      expect(commit.cookieLine(200)).toBe(
        'sid=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax',
      );
      expect(commit.cookieLine(500)).toBeUndefined();
    });

    it("settles a clearing cookie's 'auto' attributes by the request, as for a new session", async () => {
      const tenant = tenantWith({ cookie: { path: '/', secure: 'auto', sameSite: AUTO } });
      const secure = await load(tenant, undefined, true);
      const plain = await load(tenant, undefined, false);
      for (const { req } of [secure, plain]) {
        req.session = undefined;
        getRequestFacts(req)!.signedOut = true;
      }

      expect(secure.commit.cookieLine(200)).toMatch(/; Secure; SameSite=None$/);
      expect(plain.commit.cookieLine(200)).toMatch(/; HttpOnly; SameSite=Lax$/);
    });
  });
});

describe('failureAnswer', () => {
  it("answers an HTTP exception's own status and JSON (a session revoked meanwhile: 401)", () => {
    const { status, body } = failureAnswer(new LoginRevokedException());
    expect(status).toBe(401);
    expect(JSON.parse(body)).toMatchObject({ statusCode: 401, code: 'LOGIN_REVOKED' });
  });

  it('answers anything else with 503 and says nothing of the error', () => {
    const { status, body } = failureAnswer(new Error('ECONNREFUSED 10.0.0.7:6379 key sess:abc'));
    expect(status).toBe(503);
    expect(JSON.parse(body)).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      code: 'SESSION_STORE_UNAVAILABLE',
      message: 'Session store unavailable',
    });
  });

  it('answers an exception made with a plain message as Nest would', () => {
    const { status, body } = failureAnswer(
      new HttpException('Slow down', HttpStatus.TOO_MANY_REQUESTS),
    );
    expect(status).toBe(429);
    expect(JSON.parse(body)).toEqual({ statusCode: 429, message: 'Slow down' });
  });
});
