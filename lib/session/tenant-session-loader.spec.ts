import { ConsoleLogger, Logger } from '@nestjs/common';
import type { CookieOptions } from 'express-session';
import { performance } from 'node:perf_hooks';
import { SessionStoreUnavailableException } from '../errors/session-store-unavailable.exception.js';
import { MemoryBackend } from '../store/memory/memory-backend.js';
import { OperationBudget } from '../store/operation-budget.js';
import { setRequestFacts } from './request-facts.js';
import { signedCookieValue } from './session-cookie.js';
import { deadlineOfSessionId, generateSessionId } from './session-id.js';
import { SessionLifecycle } from './session-lifecycle.js';
import type { SessionRequest } from './session-request.js';
import { hasChanged, isPersisted, ownerOf } from './session-state.js';
import { buildTenantSessions, type TenantSessions } from './tenant-sessions.js';

const SECRET = 'loader-spec-secret-0123456789abcdef';
const FOREIGN_SECRET = 'loader-spec-foreign-secret-01234567';
const TTL_MS = 60_000;
/** The module takes `sameSite: 'auto'` (decided per request); express-session's types do not. */
const AUTO = 'auto' as unknown as CookieOptions['sameSite'];
const LIFETIME_MS = 8 * 3600_000;

const budget = () => new OperationBudget(5000);

describe('TenantSessionLoader', () => {
  let backend: MemoryBackend;

  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(new ConsoleLogger()));
  beforeEach(() => (backend = new MemoryBackend()));
  afterEach(() => backend.close());

  function tenantWith(cookie: CookieOptions = { path: '/', maxAge: TTL_MS }): TenantSessions {
    return buildTenantSessions({
      tenant: 'acme',
      appName: 'app',
      deployment: 'default',
      backend,
      keyTemplates: {
        keyPrefix: 'sessions:{tenant}:{app}:',
        indexPrefix: 'sessions-index:{tenant}:{app}:',
      },
      secrets: [SECRET],
      identity: (s) => (s.passport as { user?: unknown } | undefined)?.user,
      idleTtlMs: TTL_MS,
      lifetimeMs: LIFETIME_MS,
      operationTimeoutMs: 1000,
      cookieName: 'sid',
      cookie,
      rolling: true,
      saveUninitialized: false,
      trustedOrigins: new Set(),
      lifecycle: new SessionLifecycle(),
    });
  }

  function request(cookie?: string, secure = false): SessionRequest {
    const req: SessionRequest = { headers: cookie === undefined ? {} : { cookie } };
    setRequestFacts(req, { arrivedAt: performance.now(), budget: budget(), client: {}, secure });
    return req;
  }

  /** A session logged in by an earlier request; its id. */
  async function loggedIn(tenant: TenantSessions, userId: string): Promise<string> {
    const sid = generateSessionId({}, backend.now(), LIFETIME_MS);
    const session = { cookie: { originalMaxAge: TTL_MS, path: '/' }, passport: { user: userId } };
    await tenant.writer.save(sid, session, budget(), request());
    return sid;
  }

  const cookieFor = (sid: string, secret = SECRET) =>
    `theme=dark; sid=${encodeURIComponent(signedCookieValue(sid, secret))}; lang=en`;

  it("gives no session outside the cookie's path, where a browser sends no cookie", async () => {
    const tenant = tenantWith({ path: '/app', maxAge: TTL_MS });
    const req = request();

    expect(await tenant.loader.load(req, '/other', budget())).toBeUndefined();
    expect(req.session).toBeUndefined();
    expect(await tenant.loader.load(request(), '/app/page?x=1', budget())).toBeDefined();
  });

  it('gives a request without a cookie a new session, at no cost to the store', async () => {
    const tenant = tenantWith();
    const req = request();

    // A spent budget: any store call would fail.
    expect(await tenant.loader.load(req, '/', new OperationBudget(0))).toBeDefined();

    expect(req.sessionStore).toBe(tenant.store);
    expect(req.session?.id).toBe(req.sessionID);
    expect(isPersisted(req.session!)).toBe(false);
    expect(req.session!.cookie.originalMaxAge).toBe(TTL_MS);
  });

  it("makes a new session's id carry the tenant's absolute deadline", async () => {
    const req = request();
    const before = backend.now();

    await tenantWith().loader.load(req, '/', budget());

    const deadline = deadlineOfSessionId(req.sessionID!)!;
    expect(deadline).toBeGreaterThanOrEqual(before + LIFETIME_MS);
    expect(deadline).toBeLessThanOrEqual(backend.now() + LIFETIME_MS + 1000);
  });

  it("settles the cookie's 'auto' attributes by whether the request came over HTTPS", async () => {
    const tenant = tenantWith({ path: '/', secure: 'auto', sameSite: AUTO });
    const plain = request(undefined, false);
    const secure = request(undefined, true);

    await tenant.loader.load(plain, '/', budget());
    await tenant.loader.load(secure, '/', budget());

    expect(plain.session!.cookie).toMatchObject({ secure: false, sameSite: 'lax' });
    expect(secure.session!.cookie).toMatchObject({ secure: true, sameSite: 'none' });
  });

  it('loads the session a verified cookie names, with its owner, as unchanged', async () => {
    const tenant = tenantWith();
    const sid = await loggedIn(tenant, 'alice');
    const req = request(cookieFor(sid));

    await tenant.loader.load(req, '/', budget());

    expect(req.sessionID).toBe(sid);
    expect(req.session).toMatchObject({ id: sid, passport: { user: 'alice' } });
    expect(ownerOf(req.session)).toMatchObject({ userId: 'alice' });
    expect(isPersisted(req.session!)).toBe(true);
    expect(hasChanged(req.session!)).toBe(false);
  });

  it('gives a cookie signed with a secret the tenant does not have a new session', async () => {
    const tenant = tenantWith();
    const sid = await loggedIn(tenant, 'alice');
    const req = request(cookieFor(sid, FOREIGN_SECRET));

    await tenant.loader.load(req, '/', budget());

    expect(req.sessionID).not.toBe(sid);
    expect(req.session).not.toHaveProperty('passport');
  });

  it('gives the cookie of a revoked session a new session, under a new id', async () => {
    const tenant = tenantWith();
    const sid = await loggedIn(tenant, 'alice');
    await backend.indexes.unindex(tenant.keys.index('alice'), [sid], budget());
    const req = request(cookieFor(sid));

    await tenant.loader.load(req, '/', budget());

    expect(req.sessionID).not.toBe(sid);
    expect(ownerOf(req.session)).toBeUndefined();
    expect(backend.tables.sessions.has(tenant.keys.session(sid))).toBe(false);
  });

  it('throws when the store fails, rather than handing out a new session (a 503)', async () => {
    const tenant = tenantWith();
    const sid = await loggedIn(tenant, 'alice');
    const req = request(cookieFor(sid));

    await expect(tenant.loader.load(req, '/', new OperationBudget(0))).rejects.toBeInstanceOf(
      SessionStoreUnavailableException,
    );
    expect(req.session).toBeUndefined();
  });
});
