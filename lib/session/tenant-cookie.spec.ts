import { MemoryBackend } from '../store/memory/memory-backend.js';
import { OperationBudget } from '../store/operation-budget.js';
import { signedCookieValue } from './session-cookie.js';
import { generateSessionId } from './session-id.js';
import type { SessionRequest } from './session-request.js';
import {
  quietNestLogger,
  SPEC_LIFETIME_MS,
  SPEC_SECRET,
  SPEC_TTL_MS,
  specBudget,
  specTenant,
} from './tenant-sessions.fixture.js';
import type { TenantSessions } from './tenant-sessions.js';

const OLD_SECRET = 'cookie-spec-old-secret-0123456789ab';
const FOREIGN_SECRET = 'cookie-spec-foreign-secret-01234567';

describe('TenantCookie', () => {
  let backend: MemoryBackend;
  let tenant: TenantSessions;

  quietNestLogger();
  beforeEach(() => {
    backend = new MemoryBackend();
    tenant = specTenant(backend, { secrets: [SPEC_SECRET, OLD_SECRET] });
  });
  afterEach(() => backend.close());

  const newSid = () => generateSessionId({}, backend.now(), SPEC_LIFETIME_MS);
  const pair = (sid: string, secret = SPEC_SECRET) =>
    `sid=${encodeURIComponent(signedCookieValue(sid, secret))}`;

  async function stored(): Promise<string> {
    const sid = newSid();
    await tenant.writer.save(sid, { cookie: { originalMaxAge: SPEC_TTL_MS } }, specBudget());
    return sid;
  }

  it("verifies a cookie with any of the tenant's secrets, and no other", () => {
    const sid = newSid();
    expect(tenant.cookie.verifiedSessionId(signedCookieValue(sid, SPEC_SECRET))).toBe(sid);
    expect(tenant.cookie.verifiedSessionId(signedCookieValue(sid, OLD_SECRET))).toBe(sid);
    expect(tenant.cookie.verifiedSessionId(signedCookieValue(sid, FOREIGN_SECRET))).toBeUndefined();
    expect(tenant.cookie.verifiedSessionId(sid)).toBeUndefined();
  });

  it('tells which sessions exist, in one call', async () => {
    const alive = await stored();
    expect(await tenant.cookie.existing([newSid(), alive], specBudget())).toEqual(new Set([alive]));
  });

  describe('sessionIdFrom: the session a socket handshake runs with', () => {
    it('is the one verified cookie, without asking the store', async () => {
      const sid = newSid();
      const spent = new OperationBudget(0);
      expect(await tenant.cookie.sessionIdFrom(`a=1; ${pair(sid)}`, spent)).toBe(sid);
      expect(await tenant.cookie.sessionIdFrom(pair(sid, FOREIGN_SECRET), spent)).toBeUndefined();
      expect(await tenant.cookie.sessionIdFrom(undefined, spent)).toBeUndefined();
    });

    it('is, of two verified cookies, the one whose session exists', async () => {
      const alive = await stored();
      const header = `${pair(newSid())}; ${pair(alive)}`;
      expect(await tenant.cookie.sessionIdFrom(header, specBudget())).toBe(alive);
    });

    it('is none when two cookies name existing sessions (one may be tossed in)', async () => {
      const header = `${pair(await stored())}; ${pair(await stored())}`;
      expect(await tenant.cookie.sessionIdFrom(header, specBudget())).toBeUndefined();
    });
  });

  describe('dropDuplicates: one session cookie left in the request', () => {
    it('has nothing to do for a header with at most one such cookie', () => {
      const req: SessionRequest = { headers: { cookie: `a=1; ${pair(newSid())}` } };
      expect(tenant.cookie.dropDuplicates(req, specBudget())).toBeUndefined();
      expect(tenant.cookie.dropDuplicates({ headers: {} }, specBudget())).toBeUndefined();
    });

    it("keeps the cookie whose session exists, and the request's other cookies", async () => {
      const alive = await stored();
      const req: SessionRequest = { headers: { cookie: `${pair(newSid())}; a=1; ${pair(alive)}` } };

      await tenant.cookie.dropDuplicates(req, specBudget());

      expect(req.headers.cookie).toBe(`a=1; ${pair(alive)}`);
    });
  });
});
