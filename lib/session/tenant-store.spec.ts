import type { Session, SessionData } from 'express-session';
import { SessionStoreUnavailableException } from '../errors/session-store-unavailable.exception.js';
import { MemoryBackend } from '../store/memory/memory-backend.js';
import { OperationBudget } from '../store/operation-budget.js';
import { generateSessionId } from './session-id.js';
import { SessionLifecycle, type LogoutEvent } from './session-lifecycle.js';
import { hasChanged, isHeldFor, isPersisted, ownerOf } from './session-state.js';
import {
  quietNestLogger,
  SPEC_LIFETIME_MS,
  SPEC_TTL_MS,
  specBudget,
  specCookie,
  specRequest,
  specTenant,
  type SpecTenantOverrides,
} from './tenant-sessions.fixture.js';
import type { TenantSessions } from './tenant-sessions.js';

/** A callback that resolves with what it was called with. */
function callback<T>(): {
  done: (error: unknown, value?: T) => string;
  result: Promise<[unknown, T?]>;
} {
  let settle!: (args: [unknown, T?]) => void;
  const result = new Promise<[unknown, T?]>((resolve) => (settle = resolve));
  return {
    done: (error, value) => {
      settle([error, value]);
      return 'what the callback returned';
    },
    result,
  };
}

describe('TenantStore', () => {
  let backend: MemoryBackend;
  let tenant: TenantSessions;
  let logouts: LogoutEvent[];

  quietNestLogger();
  beforeEach(() => {
    backend = new MemoryBackend();
    logouts = [];
    tenant = tenantWith();
  });
  afterEach(() => backend.close());

  function tenantWith(overrides: SpecTenantOverrides = {}): TenantSessions {
    const lifecycle = new SessionLifecycle();
    lifecycle.listen({ loggedOut: (event) => logouts.push(event) });
    return specTenant(backend, { lifecycle, ...overrides });
  }

  const newSid = () => generateSessionId({}, backend.now(), SPEC_LIFETIME_MS);
  const key = (sid: string) => tenant.keys.session(sid);
  const ttlLeft = (sid: string) => backend.tables.sessions.get(key(sid))!.expiresAt - Date.now();

  async function loggedIn(userId: string): Promise<string> {
    const sid = newSid();
    await tenant.store.set(sid, {
      cookie: specCookie(),
      passport: { user: userId },
    } as unknown as SessionData);
    return sid;
  }

  describe("connect-redis's calling convention", () => {
    it('resolves to the value without a callback', async () => {
      const sid = newSid();
      await tenant.store.set(sid, {
        cookie: specCookie(),
        theme: 'dark',
      } as unknown as SessionData);

      expect(await tenant.store.get(sid)).toMatchObject({ theme: 'dark' });
      expect(await tenant.store.get(newSid())).toBeNull();
    });

    it('calls the callback with (null, value) and resolves to what it returned', async () => {
      const sid = newSid();
      await tenant.store.set(sid, {
        cookie: specCookie(),
        theme: 'dark',
      } as unknown as SessionData);
      const { done, result } = callback<SessionData | null>();

      const returned = await tenant.store.get(sid, done);

      expect(returned).toBe('what the callback returned');
      const [error, value] = await result;
      expect(error).toBeNull();
      expect(value).toMatchObject({ theme: 'dark' });
    });

    it('hands a failure to the callback, and rejects without one', async () => {
      const failing = tenantWith({ operationTimeoutMs: 0 });
      const { done, result } = callback();

      await failing.store.get(newSid(), done);

      expect((await result)[0]).toBeInstanceOf(SessionStoreUnavailableException);
      await expect(failing.store.get(newSid())).rejects.toBeInstanceOf(
        SessionStoreUnavailableException,
      );
      await expect(failing.store.destroy(newSid())).rejects.toBeInstanceOf(
        SessionStoreUnavailableException,
      );
    });
  });

  describe('the session methods, each a call to the part that does the work', () => {
    it('get restarts the idle TTL; peek leaves it as it is', async () => {
      const sid = newSid();
      await tenant.store.set(sid, { cookie: specCookie() } as unknown as SessionData);
      backend.tables.sessions.get(key(sid))!.expiresAt = Date.now() + 5000;

      expect(await tenant.store.peek(sid)).not.toBeNull();
      expect(ttlLeft(sid)).toBeLessThanOrEqual(5000);
      await tenant.store.get(sid);
      expect(ttlLeft(sid)).toBeGreaterThan(SPEC_TTL_MS - 1000);
    });

    it("peek serves nothing for a session its user's index no longer admits", async () => {
      const sid = await loggedIn('alice');
      await backend.indexes.unindex(tenant.keys.index('alice'), [sid], specBudget());

      expect(await tenant.store.peek(sid)).toBeNull();
    });

    it('touch restarts the TTL of a session read before', async () => {
      const sid = await loggedIn('alice');
      const session = (await tenant.store.get(sid)) as SessionData;
      backend.tables.sessions.get(key(sid))!.expiresAt = Date.now() + 5000;

      await tenant.store.touch(sid, session);

      expect(ttlLeft(sid)).toBeGreaterThan(SPEC_TTL_MS - 1000);
    });

    it('destroy deletes the session and its index entry, as a logout', async () => {
      const sid = await loggedIn('alice');

      await tenant.store.destroy(sid);

      expect(backend.tables.sessions.has(key(sid))).toBe(false);
      expect(backend.tables.indexes.has(tenant.keys.index('alice'))).toBe(false);
      expect(logouts).toEqual([{ tenant: 'acme', deployment: 'default', userId: 'alice', sid }]);
    });

    it('ids, length, all and clear see this tenant’s sessions', async () => {
      const alice = await loggedIn('alice');
      const anonymous = newSid();
      await tenant.store.set(anonymous, { cookie: specCookie() } as unknown as SessionData);

      expect((await tenant.store.ids()).sort()).toStrictEqual([alice, anonymous].sort());
      expect(await tenant.store.length()).toBe(2);
      const all = await new Promise<unknown[]>((resolve, reject) =>
        tenant.store.all((error, sessions) => (error ? reject(error) : resolve(sessions!))),
      );
      expect(all).toHaveLength(2);
      await tenant.store.clear();
      expect(await tenant.store.length()).toBe(0);
    });
  });

  describe('regenerate', () => {
    it("ends the request's session and gives it a new one under a new id", async () => {
      const sid = await loggedIn('alice');
      const req = specRequest();
      req.sessionID = sid;
      tenant.store.createSession(req as never, (await tenant.store.get(sid)) as SessionData);

      const error = await new Promise((resolve) => tenant.store.regenerate(req, resolve));

      expect(error).toBeUndefined();
      expect(req.sessionID).not.toBe(sid);
      expect(req.session?.id).toBe(req.sessionID);
      expect(req.session).not.toHaveProperty('passport');
      expect(backend.tables.sessions.has(key(sid))).toBe(false);
      expect(logouts.map((e) => e.sid)).toEqual([sid]);
    });

    it("runs on the request's budget, and hands a failure to the callback, changing nothing", async () => {
      const sid = await loggedIn('alice');
      const req = specRequest({ budget: new OperationBudget(0) });
      req.sessionID = sid;

      const error = await new Promise((resolve) => tenant.store.regenerate(req, resolve));

      expect(error).toBeInstanceOf(SessionStoreUnavailableException);
      expect(req.sessionID).toBe(sid);
      expect(backend.tables.sessions.has(key(sid))).toBe(true);
    });
  });

  it("builds req.session from loaded data with its owner, as loaded and unchanged (express-session's load)", async () => {
    const sid = await loggedIn('alice');

    const session = await new Promise<Session>((resolve, reject) =>
      tenant.store.load(sid, (error, loaded) =>
        error ? reject(error) : resolve(loaded as Session),
      ),
    );

    expect(session).toMatchObject({ id: sid, passport: { user: 'alice' } });
    expect(ownerOf(session)).toMatchObject({ userId: 'alice' });
    expect(isPersisted(session)).toBe(true);
    expect(hasChanged(session)).toBe(false);
    expect(isHeldFor(session, sid)).toBe(true);
  });
});
