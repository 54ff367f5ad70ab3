import type { CookieOptions } from 'express-session';
import { SessionStoreUnavailableException } from '../errors/session-store-unavailable.exception.js';
import { MemoryBackend } from '../store/memory/memory-backend.js';
import { OperationBudget } from '../store/operation-budget.js';
import { signedCookieValue } from './session-cookie.js';
import { deadlineOfSessionId, generateSessionId } from './session-id.js';
import { hasChanged, isPersisted, ownerOf } from './session-state.js';
import {
  quietNestLogger,
  SPEC_SECRET,
  SPEC_TTL_MS,
  specBudget,
  specRequest,
  specTenant,
} from './tenant-sessions.fixture.js';
import type { TenantSessions } from './tenant-sessions.js';

const FOREIGN_SECRET = 'loader-spec-foreign-secret-01234567';
/** The module takes `sameSite: 'auto'` (decided per request); express-session's types do not. */
const AUTO = 'auto' as unknown as CookieOptions['sameSite'];
/** Apart from the fixture's, so a new id's deadline shows it is this tenant's setting. */
const LIFETIME_MS = 8 * 3600_000;

describe('TenantSessionLoader', () => {
  let backend: MemoryBackend;

  quietNestLogger();
  beforeEach(() => (backend = new MemoryBackend()));
  afterEach(() => backend.close());

  const tenantWith = (cookie: CookieOptions = { path: '/', maxAge: SPEC_TTL_MS }) =>
    specTenant(backend, { lifetimeMs: LIFETIME_MS, cookie });

  /** A session logged in by an earlier request; its id. */
  async function loggedIn(tenant: TenantSessions, userId: string): Promise<string> {
    const sid = generateSessionId({}, backend.now(), LIFETIME_MS);
    const session = {
      cookie: { originalMaxAge: SPEC_TTL_MS, path: '/' },
      passport: { user: userId },
    };
    await tenant.writer.save(sid, session, specBudget(), specRequest());
    return sid;
  }

  const cookieFor = (sid: string, secret = SPEC_SECRET) =>
    `theme=dark; sid=${encodeURIComponent(signedCookieValue(sid, secret))}; lang=en`;

  it("gives no session outside the cookie's path, where a browser sends no cookie", async () => {
    const tenant = tenantWith({ path: '/app', maxAge: SPEC_TTL_MS });
    const req = specRequest();

    expect(await tenant.loader.load(req, '/other', specBudget())).toBeUndefined();
    expect(req.session).toBeUndefined();
    expect(await tenant.loader.load(specRequest(), '/app/page?x=1', specBudget())).toBeDefined();
  });

  it('gives a request without a cookie a new session, at no cost to the store', async () => {
    const tenant = tenantWith();
    const req = specRequest();

    // A spent budget: any store call would fail.
    expect(await tenant.loader.load(req, '/', new OperationBudget(0))).toBeDefined();

    expect(req.sessionStore).toBe(tenant.store);
    expect(req.session?.id).toBe(req.sessionID);
    expect(isPersisted(req.session!)).toBe(false);
    expect(req.session!.cookie.originalMaxAge).toBe(SPEC_TTL_MS);
  });

  it("makes a new session's id carry the tenant's absolute deadline", async () => {
    const req = specRequest();
    const before = backend.now();

    await tenantWith().loader.load(req, '/', specBudget());

    const deadline = deadlineOfSessionId(req.sessionID!)!;
    expect(deadline).toBeGreaterThanOrEqual(before + LIFETIME_MS);
    expect(deadline).toBeLessThanOrEqual(backend.now() + LIFETIME_MS + 1000);
  });

  it("settles the cookie's 'auto' attributes by whether the request came over HTTPS", async () => {
    const tenant = tenantWith({ path: '/', secure: 'auto', sameSite: AUTO });
    const plain = specRequest({ secure: false });
    const secure = specRequest({ secure: true });

    await tenant.loader.load(plain, '/', specBudget());
    await tenant.loader.load(secure, '/', specBudget());

    expect(plain.session!.cookie).toMatchObject({ secure: false, sameSite: 'lax' });
    expect(secure.session!.cookie).toMatchObject({ secure: true, sameSite: 'none' });
  });

  it('loads the session a verified cookie names, with its owner, as unchanged', async () => {
    const tenant = tenantWith();
    const sid = await loggedIn(tenant, 'alice');
    const req = specRequest({ cookie: cookieFor(sid) });

    await tenant.loader.load(req, '/', specBudget());

    expect(req.sessionID).toBe(sid);
    expect(req.session).toMatchObject({ id: sid, passport: { user: 'alice' } });
    expect(ownerOf(req.session)).toMatchObject({ userId: 'alice' });
    expect(isPersisted(req.session!)).toBe(true);
    expect(hasChanged(req.session!)).toBe(false);
  });

  it('gives a cookie signed with a secret the tenant does not have a new session', async () => {
    const tenant = tenantWith();
    const sid = await loggedIn(tenant, 'alice');
    const req = specRequest({ cookie: cookieFor(sid, FOREIGN_SECRET) });

    await tenant.loader.load(req, '/', specBudget());

    expect(req.sessionID).not.toBe(sid);
    expect(req.session).not.toHaveProperty('passport');
  });

  it('gives the cookie of a revoked session a new session, under a new id', async () => {
    const tenant = tenantWith();
    const sid = await loggedIn(tenant, 'alice');
    await backend.indexes.unindex(tenant.keys.index('alice'), [sid], specBudget());
    const req = specRequest({ cookie: cookieFor(sid) });

    await tenant.loader.load(req, '/', specBudget());

    expect(req.sessionID).not.toBe(sid);
    expect(ownerOf(req.session)).toBeUndefined();
    expect(backend.tables.sessions.has(tenant.keys.session(sid))).toBe(false);
  });

  it('throws when the store fails, rather than handing out a new session (a 503)', async () => {
    const tenant = tenantWith();
    const sid = await loggedIn(tenant, 'alice');
    const req = specRequest({ cookie: cookieFor(sid) });

    await expect(tenant.loader.load(req, '/', new OperationBudget(0))).rejects.toBeInstanceOf(
      SessionStoreUnavailableException,
    );
    expect(req.session).toBeUndefined();
  });
});
