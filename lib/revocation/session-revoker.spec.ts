import { LoginRevokedException } from '../errors/login-revoked.exception.js';
import type { SessionRevokedEvent } from '../options/session-revoked.event.js';
import { sessionHandle } from '../session/session-handle.js';
import { deadlineOfSessionId, generateSessionId } from '../session/session-id.js';
import {
  quietNestLogger,
  SPEC_LIFETIME_MS,
  SPEC_TTL_MS,
  specBudget,
  specRequest,
  specTenant,
} from '../session/tenant-sessions.fixture.js';
import type { TenantSessions } from '../session/tenant-sessions.js';
import { MemoryBackend } from '../store/memory/memory-backend.js';
import { MemorySessionKeys } from '../store/memory/memory-session-keys.js';
import type { MemoryTables } from '../store/memory/memory-tables.js';
import { MemoryUserIndexes } from '../store/memory/memory-user-indexes.js';
import type { OperationBudget } from '../store/operation-budget.js';
import { RevocationEvents } from './revocation-events.js';
import { SessionRevoker } from './session-revoker.js';

/** Session keys that log the deletions a revocation makes. */
class RecordedKeys extends MemorySessionKeys {
  constructor(
    tables: MemoryTables,
    private readonly calls: string[],
  ) {
    super(tables);
  }

  override remove(keys: string[], budget: OperationBudget, revoking?: boolean): Promise<number> {
    this.calls.push(`DEL ${keys.length}${revoking ? ' (revoking)' : ''}`);
    return super.remove(keys, budget);
  }
}

/** User indexes that log the removals a revocation makes. */
class RecordedIndexes extends MemoryUserIndexes {
  constructor(
    tables: MemoryTables,
    private readonly calls: string[],
  ) {
    super(tables);
  }

  override unindex(
    key: string,
    sids: string[],
    budget: OperationBudget,
    revoking?: boolean,
  ): Promise<void> {
    this.calls.push(`ZREM ${sids.length}${revoking ? ' (revoking)' : ''}`);
    return super.unindex(key, sids, budget);
  }
}

describe('SessionRevoker', () => {
  let memory: MemoryBackend;
  let calls: string[];
  let heard: SessionRevokedEvent[];
  let tenant: TenantSessions;
  let revoker: SessionRevoker;

  quietNestLogger();
  beforeEach(() => {
    memory = new MemoryBackend();
    calls = [];
    heard = [];
    tenant = specTenant({
      keys: new RecordedKeys(memory.tables, calls),
      indexes: new RecordedIndexes(memory.tables, calls),
      lifecycle: memory.lifecycle,
    });
    const events = new RevocationEvents();
    events.listen((event) => {
      // What a listener finds when it hears: the revocation is over.
      calls.push('emit');
      heard.push(event);
    });
    revoker = new SessionRevoker(events);
  });
  afterEach(() => memory.close());

  const exists = (sid: string) => memory.tables.sessions.has(tenant.keys.session(sid));
  const indexed = (userId: string, sid: string) =>
    memory.tables.indexes.get(tenant.keys.index(userId))?.value.leases.has(sid) ?? false;

  async function login(userId: string, maxAgeMs = SPEC_TTL_MS): Promise<string> {
    const sid = generateSessionId({}, memory.now(), SPEC_LIFETIME_MS);
    const session = { cookie: { originalMaxAge: maxAgeMs }, passport: { user: userId } };
    await tenant.writer.save(sid, session, specBudget(), specRequest());
    calls.length = 0;
    return sid;
  }

  describe('revokeUser', () => {
    it("deletes the user's sessions, then drops their entries, then tells the listeners", async () => {
      const sids = [await login('alice'), await login('alice')];
      const bobs = await login('bob');

      expect(await revoker.revokeUser(tenant, 'alice', 'user', specBudget())).toBe(2);

      expect(calls).toEqual(['DEL 2 (revoking)', 'ZREM 2 (revoking)', 'emit']);
      for (const sid of sids) {
        expect(exists(sid)).toBe(false);
        expect(indexed('alice', sid)).toBe(false);
      }
      expect(exists(bobs)).toBe(true);
      expect(heard).toEqual([
        expect.objectContaining({
          tenant: 'acme',
          userId: 'alice',
          reason: 'user',
          revoked: 2,
          sessions: expect.arrayContaining(sids.map(sessionHandle)),
        }),
      ]);
    });

    it('refuses a login of the user that began before it, though it is stored after', async () => {
      const req = specRequest({ agoMs: 20 });
      await revoker.revokeUser(tenant, 'alice', 'user', specBudget());
      const sid = generateSessionId({}, memory.now(), SPEC_LIFETIME_MS);

      await expect(
        tenant.writer.save(sid, { cookie: {}, passport: { user: 'alice' } }, specBudget(), req),
      ).rejects.toBeInstanceOf(LoginRevokedException);
      expect(exists(sid)).toBe(false);
    });

    it('keeps the session it is asked to keep (sign out other devices)', async () => {
      const mine = await login('alice');
      const other = await login('alice');

      expect(await revoker.revokeUser(tenant, 'alice', 'others', specBudget(), mine)).toBe(1);

      expect(exists(mine)).toBe(true);
      expect(indexed('alice', mine)).toBe(true);
      expect(exists(other)).toBe(false);
      expect(heard[0].sessions).toEqual([sessionHandle(other)]);
      expect(await tenant.reader.read(mine, specBudget())).not.toBeNull();
    });

    it('counts the sessions that lived, and names every one it went for', async () => {
      const alive = await login('alice');
      const gone = await login('alice');
      memory.tables.sessions.delete(tenant.keys.session(gone));

      expect(await revoker.revokeUser(tenant, 'alice', 'user', specBudget())).toBe(1);

      expect(heard[0].revoked).toBe(1);
      expect([...heard[0].sessions].sort()).toEqual([alive, gone].map(sessionHandle).sort());
      expect(indexed('alice', gone)).toBe(false);
    });

    it('records the not-before even for a user with no session, and still tells', async () => {
      const req = specRequest({ agoMs: 20 });

      expect(await revoker.revokeUser(tenant, 'carol', 'user', specBudget())).toBe(0);

      expect(calls).toEqual(['emit']);
      expect(heard[0]).toMatchObject({ userId: 'carol', revoked: 0, sessions: [] });
      const sid = generateSessionId({}, memory.now(), SPEC_LIFETIME_MS);
      await expect(
        tenant.writer.save(sid, { cookie: {}, passport: { user: 'carol' } }, specBudget(), req),
      ).rejects.toBeInstanceOf(LoginRevokedException);
    });
  });

  describe('revokeSessions', () => {
    it('deletes the sessions before dropping their entries, and records no not-before', async () => {
      const sid = await login('alice');
      const req = specRequest({ agoMs: 20 });

      expect(await revoker.revokeSessions(tenant, 'alice', [sid], 'session', specBudget())).toBe(1);

      expect(calls).toEqual(['DEL 1 (revoking)', 'ZREM 1 (revoking)', 'emit']);
      expect(heard[0]).toMatchObject({ reason: 'session', sessions: [sessionHandle(sid)] });
      // A login that began before it is not refused: only that session was revoked.
      const next = generateSessionId({}, memory.now(), SPEC_LIFETIME_MS);
      await tenant.writer.save(
        next,
        { cookie: {}, passport: { user: 'alice' } },
        specBudget(),
        req,
      );
      expect(exists(next)).toBe(true);
    });

    it('sends nothing to the store for no session, and still tells the listeners', async () => {
      expect(await revoker.revokeSessions(tenant, 'alice', [], 'cap', specBudget())).toBe(0);
      expect(calls).toEqual(['emit']);
      expect(heard[0]).toMatchObject({ reason: 'cap', revoked: 0, sessions: [] });
    });
  });

  describe('live', () => {
    it("gives the user's stored sessions, oldest login first, with expiry and own TTL", async () => {
      const first = await login('alice');
      await new Promise((resolve) => setTimeout(resolve, 3));
      const second = await login('alice', 2 * SPEC_TTL_MS);
      const entries = await tenant.index.entries('alice', specBudget());
      const before = memory.now();

      const live = await revoker.live(tenant, 'alice', [...entries].reverse(), specBudget());

      expect(live.map((s) => s.sid)).toEqual([first, second]);
      expect(live.map((s) => s.ttlMs)).toEqual([SPEC_TTL_MS, 2 * SPEC_TTL_MS]);
      expect(live[1].expiresAt).toBeGreaterThan(before + 2 * SPEC_TTL_MS - 1000);
      expect(live[1].expiresAt).toBeLessThanOrEqual(memory.now() + 2 * SPEC_TTL_MS);
      expect(live[0].owner).toMatchObject({ userId: 'alice' });
    });

    it('never lists a session as ending after its absolute deadline', async () => {
      const sid = await login('alice');
      // A plain express-session service stored it again with its own, longer TTL.
      memory.tables.sessions.get(tenant.keys.session(sid))!.expiresAt += 2 * SPEC_LIFETIME_MS;
      const entries = await tenant.index.entries('alice', specBudget());

      const [listed] = await revoker.live(tenant, 'alice', entries, specBudget());

      expect(listed.expiresAt).toBe(deadlineOfSessionId(sid));
    });

    it('never removes an entry, even one whose session is not there (a login in flight)', async () => {
      const sid = await login('alice');
      memory.tables.sessions.delete(tenant.keys.session(sid));
      const entries = await tenant.index.entries('alice', specBudget());

      expect(await revoker.live(tenant, 'alice', entries, specBudget())).toEqual([]);

      expect(calls).toEqual([]);
      expect(indexed('alice', sid)).toBe(true);
    });

    it("leaves out a session on the user's entry that now belongs to someone else", async () => {
      const sid = await login('alice');
      const entries = await tenant.index.entries('alice', specBudget());
      const data = (await tenant.reader.read(sid, specBudget()))!;
      data.passport = { user: 'bob' };
      await tenant.writer.save(sid, data, specBudget(), specRequest());

      expect(await revoker.live(tenant, 'alice', entries, specBudget())).toEqual([]);
    });
  });

  it('tells of a tenant-wide revocation with no user and no session named', async () => {
    await revoker.emit(tenant, 'tenant', 7);
    expect(heard).toEqual([
      {
        tenant: 'acme',
        userId: undefined,
        reason: 'tenant',
        revoked: 7,
        sessions: [],
        at: expect.any(Date),
      },
    ]);
  });
});
