import { setTimeout as sleep } from 'node:timers/promises';
import { LoginRevokedException } from '../errors/login-revoked.exception.js';
import { SessionRevokedException } from '../errors/session-revoked.exception.js';
import { WrongTypeError } from '../errors/wrong-type.error.js';
import { MemoryBackend } from '../store/memory/memory-backend.js';
import { MemorySessionKeys } from '../store/memory/memory-session-keys.js';
import type { MemoryTables } from '../store/memory/memory-tables.js';
import { MemoryUserIndexes } from '../store/memory/memory-user-indexes.js';
import type { OperationBudget } from '../store/operation-budget.js';
import type { SessionWrite, StoredSession } from '../store/session-key-store.interface.js';
import type { Admission, LoginStart } from '../store/user-index-store.interface.js';
import { generateSessionId } from './session-id.js';
import { SessionLifecycle } from './session-lifecycle.js';
import { ownerOf, saveFailed, storedValueOf } from './session-state.js';
import {
  quietNestLogger,
  SPEC_LIFETIME_MS,
  SPEC_TTL_MS,
  specBudget,
  specCookie,
  specRequest,
  specTenant,
} from './tenant-sessions.fixture.js';
import type { TenantSessions } from './tenant-sessions.js';

const INDEX_PREFIX = 'sessions-index:acme:app:';

/**
 * Session keys that log each call, can run something right after a write or right before a
 * conditional deletion, and hold odd keys.
 */
class RecordedKeys extends MemorySessionKeys {
  afterWrite?: () => Promise<unknown>;
  beforeRemoveIfHolds?: () => Promise<unknown>;
  readonly wrongType = new Set<string>();

  constructor(
    tables: MemoryTables,
    private readonly calls: string[],
  ) {
    super(tables);
  }

  override async write(write: SessionWrite, budget: OperationBudget): Promise<boolean> {
    this.calls.push(write.onlyIfExists ? 'write XX' : 'write');
    const written = await super.write(write, budget);
    await this.afterWrite?.();
    return written;
  }

  override async inspect(keys: string[], budget: OperationBudget): Promise<StoredSession[]> {
    this.calls.push('read');
    if (keys.some((key) => this.wrongType.has(key))) throw new WrongTypeError('WRONGTYPE');
    return super.inspect(keys, budget);
  }

  override async removeIfHolds(
    key: string,
    value: string,
    budget: OperationBudget,
  ): Promise<true | string | null> {
    this.calls.push('delete if unchanged');
    const before = this.beforeRemoveIfHolds;
    this.beforeRemoveIfHolds = undefined;
    await before?.();
    if (this.wrongType.has(key)) throw new WrongTypeError('WRONGTYPE');
    return super.removeIfHolds(key, value, budget);
  }

  override async remove(keys: string[], budget: OperationBudget): Promise<number> {
    this.calls.push('remove');
    return super.remove(keys, budget);
  }
}

/** User indexes that log each call with the user it is for. */
class RecordedIndexes extends MemoryUserIndexes {
  constructor(
    tables: MemoryTables,
    private readonly calls: string[],
  ) {
    super(tables);
  }

  override admit(
    key: string,
    sid: string,
    leaseMs: number,
    began: LoginStart,
    budget: OperationBudget,
  ): Promise<Admission> {
    this.calls.push(`admit ${userOf(key)}`);
    return super.admit(key, sid, leaseMs, began, budget);
  }

  override confirm(
    key: string,
    sid: string,
    began: LoginStart,
    budget: OperationBudget,
  ): Promise<boolean> {
    this.calls.push(`confirm ${userOf(key)}`);
    return super.confirm(key, sid, began, budget);
  }

  override lease(
    key: string,
    sid: string,
    leaseMs: number,
    renewBelowMs: number,
    budget: OperationBudget,
  ): Promise<number | undefined> {
    this.calls.push(`lease ${userOf(key)}`);
    return super.lease(key, sid, leaseMs, renewBelowMs, budget);
  }

  override unindex(
    key: string,
    sids: string[],
    budget: OperationBudget,
    revoking?: boolean,
  ): Promise<void> {
    this.calls.push(`unindex ${userOf(key)}${revoking ? ' (revoking)' : ''}`);
    return super.unindex(key, sids, budget);
  }
}

const userOf = (indexKey: string) => indexKey.slice(INDEX_PREFIX.length);

/** A request from a known client, which a login's owner records. */
const requestArrived = (agoMs = 0) =>
  specRequest({ agoMs, client: { ip: '203.0.113.7', userAgent: 'spec' } });

describe('SessionWriter', () => {
  let memory: MemoryBackend;
  let keys: RecordedKeys;
  let calls: string[];
  let events: string[];
  let logins: { userId: string; userSessions: number; req?: object }[];
  let tenant: TenantSessions;

  quietNestLogger();

  beforeEach(() => {
    memory = new MemoryBackend();
    calls = [];
    events = [];
    logins = [];
    keys = new RecordedKeys(memory.tables, calls);
    const lifecycle = new SessionLifecycle();
    lifecycle.listen({
      loggedIn: (event) => {
        events.push(`in ${event.userId}`);
        logins.push(event);
      },
      loggedOut: (event) => events.push(`out ${event.userId}`),
    });
    tenant = specTenant(
      { keys, indexes: new RecordedIndexes(memory.tables, calls), lifecycle: memory.lifecycle },
      { lifecycle },
    );
  });
  afterEach(() => memory.close());

  const newSid = () => generateSessionId({}, memory.now(), SPEC_LIFETIME_MS);
  const stored = (sid: string) => memory.tables.sessions.get(tenant.keys.session(sid))?.value;
  const leaseOf = (userId: string, sid: string) =>
    memory.tables.indexes.get(tenant.keys.index(userId))?.value.leases.get(sid);

  /** A session logged in and stored by a request, then loaded as the next request loads it. */
  async function loggedIn(userId: string): Promise<{ sid: string; data: Record<string, unknown> }> {
    const sid = newSid();
    await tenant.writer.save(
      sid,
      { cookie: specCookie(), passport: { user: userId } },
      specBudget(),
      requestArrived(),
    );
    const data = (await tenant.reader.read(sid, specBudget()))!;
    calls.length = 0;
    events.length = 0;
    return { sid, data };
  }

  describe('save: an identity that appears (a login)', () => {
    it('admits it, writes the session, then confirms it, and then tells of the login', async () => {
      const sid = newSid();
      const req = requestArrived();
      const session = { cookie: specCookie(), passport: { user: 'alice' } };

      await tenant.writer.save(sid, session, specBudget(), req);

      expect(calls).toEqual(['admit alice', 'write', 'confirm alice']);
      expect(tenant.owners.interpret(sid, stored(sid)!)).toMatchObject({
        verdict: 'owned',
        owner: { userId: 'alice', via: 'identity', ip: '203.0.113.7', userAgent: 'spec' },
      });
      expect(ownerOf(session)?.indexedUntil).toBe(leaseOf('alice', sid));
      expect(leaseOf('alice', sid)).toBeGreaterThan(memory.now() + 2.9 * SPEC_TTL_MS);
      expect(logins).toEqual([
        { tenant: 'acme', deployment: 'default', userId: 'alice', userSessions: 1, req },
      ]);
    });

    it("counts the user's entries, this login's included, in the login event", async () => {
      await loggedIn('alice');
      await loggedIn('alice');
      logins.length = 0;
      await tenant.writer.save(
        newSid(),
        { cookie: specCookie(), passport: { user: 'alice' } },
        specBudget(),
        requestArrived(),
      );

      expect(logins.map((e) => e.userSessions)).toEqual([3]);
    });

    it('indexes the user login() bound, whatever the data says, with the client it bound', async () => {
      const sid = newSid();
      const session = { cookie: specCookie() };
      tenant.owners.bindLogin(session, 'alice', { ip: '198.51.100.1', userAgent: 'browser' });

      await tenant.writer.save(sid, session, specBudget(), requestArrived());

      expect(tenant.owners.interpret(sid, stored(sid)!)).toMatchObject({
        verdict: 'owned',
        owner: { userId: 'alice', via: 'login', ip: '198.51.100.1', userAgent: 'browser' },
      });
      expect(leaseOf('alice', sid)).toBeDefined();
    });

    it('refuses a login whose user was revoked after its request arrived, storing nothing', async () => {
      const req = requestArrived(20);
      await tenant.index.beginRevocation('alice', specBudget());
      const sid = newSid();
      const session = { cookie: specCookie(), passport: { user: 'alice' } };

      await expect(tenant.writer.save(sid, session, specBudget(), req)).rejects.toBeInstanceOf(
        LoginRevokedException,
      );

      expect(stored(sid)).toBeUndefined();
      expect(leaseOf('alice', sid)).toBeUndefined();
      expect(logins).toEqual([]);
      expect(saveFailed(session)).toBe(true);
    });

    it('admits a login whose request arrived after the revocation', async () => {
      await tenant.index.beginRevocation('alice', specBudget());
      await sleep(2);
      const sid = newSid();

      await tenant.writer.save(
        sid,
        { cookie: specCookie(), passport: { user: 'alice' } },
        specBudget(),
        requestArrived(),
      );

      expect(stored(sid)).toBeDefined();
      expect(logins.map((e) => e.userId)).toEqual(['alice']);
    });

    it('takes the session back when a revocation lands between its admission and its write', async () => {
      keys.afterWrite = () => tenant.index.beginRevocation('alice', specBudget());
      const sid = newSid();

      await expect(
        tenant.writer.save(
          sid,
          { cookie: specCookie(), passport: { user: 'alice' } },
          specBudget(),
          requestArrived(1),
        ),
      ).rejects.toBeInstanceOf(LoginRevokedException);

      expect(calls).toEqual(['admit alice', 'write', 'confirm alice', 'remove']);
      expect(stored(sid)).toBeUndefined();
      expect(logins).toEqual([]);
    });
  });

  describe('save: a session loaded from the store', () => {
    it('writes it only if it still exists (SET XX), so a revoked session is not written back', async () => {
      const { sid, data } = await loggedIn('alice');
      memory.tables.sessions.delete(tenant.keys.session(sid));
      data.cart = ['book'];

      await expect(
        tenant.writer.save(sid, data, specBudget(), requestArrived()),
      ).rejects.toBeInstanceOf(SessionRevokedException);

      expect(calls).toEqual(['write XX']);
      expect(stored(sid)).toBeUndefined();
      expect(saveFailed(data)).toBe(true);
    });

    it('writes an unchanged session a request already wrote no second time', async () => {
      const sid = newSid();
      const req = requestArrived();
      const session = { cookie: specCookie(), passport: { user: 'alice' } };
      await tenant.writer.save(sid, session, specBudget(), req);
      calls.length = 0;

      await tenant.writer.save(sid, session, specBudget(), req);

      expect(calls).toEqual([]);
    });

    it('renews a lease running low before the write, and keeps it with the owner', async () => {
      const { sid, data } = await loggedIn('alice');
      ownerOf(data)!.indexedUntil = Math.floor(memory.now() + 1000);
      data.cart = ['book'];

      await tenant.writer.save(sid, data, specBudget(), requestArrived());

      expect(calls).toEqual(['lease alice', 'write XX']);
      expect(ownerOf(data)!.indexedUntil).toBe(leaseOf('alice', sid));
      expect(tenant.owners.interpret(sid, stored(sid)!)).toMatchObject({
        verdict: 'owned',
        owner: { indexedUntil: leaseOf('alice', sid) },
      });
    });

    it('refuses to write a session whose lease its index no longer grants', async () => {
      const { sid, data } = await loggedIn('alice');
      ownerOf(data)!.indexedUntil = Math.floor(memory.now() + 1000);
      await memory.indexes.unindex(tenant.keys.index('alice'), [sid], specBudget());
      data.cart = ['book'];
      const before = stored(sid);

      await expect(
        tenant.writer.save(sid, data, specBudget(), requestArrived()),
      ).rejects.toBeInstanceOf(SessionRevokedException);

      expect(calls).toEqual(['lease alice']);
      expect(stored(sid)).toBe(before);
    });
  });

  describe('save: an identity that changes or goes', () => {
    it('writes a session whose identity went without its owner, then unindexes it as a logout', async () => {
      const { sid, data } = await loggedIn('alice');
      delete data.passport;

      await tenant.writer.save(sid, data, specBudget(), requestArrived());

      expect(calls).toEqual(['write XX', 'unindex alice (revoking)']);
      expect(events).toEqual(['out alice']);
      expect(JSON.parse(stored(sid)!)).not.toHaveProperty('_owner');
      expect(tenant.owners.interpret(sid, stored(sid)!)?.verdict).toBe('anonymous');
      expect(leaseOf('alice', sid)).toBeUndefined();
      expect(ownerOf(data)).toBeUndefined();
    });

    it('admits the new user, writes, unindexes the old one (a logout), then confirms', async () => {
      const { sid, data } = await loggedIn('alice');
      data.passport = { user: 'bob' };

      await tenant.writer.save(sid, data, specBudget(), requestArrived());

      expect(calls).toEqual(['admit bob', 'write XX', 'unindex alice (revoking)', 'confirm bob']);
      expect(events).toEqual(['out alice', 'in bob']);
      expect(leaseOf('alice', sid)).toBeUndefined();
      expect(leaseOf('bob', sid)).toBeDefined();
      expect(tenant.owners.interpret(sid, stored(sid)!)).toMatchObject({
        verdict: 'owned',
        owner: { userId: 'bob' },
      });
    });

    it("tells of the old user's logout when the new user's login is taken back", async () => {
      const { sid, data } = await loggedIn('alice');
      keys.afterWrite = () => tenant.index.beginRevocation('bob', specBudget());
      data.passport = { user: 'bob' };

      await expect(
        tenant.writer.save(sid, data, specBudget(), requestArrived(1)),
      ).rejects.toBeInstanceOf(LoginRevokedException);

      expect(stored(sid)).toBeUndefined();
      expect(events).toEqual(['out alice']);
      expect(leaseOf('alice', sid)).toBeUndefined();
    });

    it('leaves the old entry alone when the write finds the session revoked', async () => {
      const { sid, data } = await loggedIn('alice');
      memory.tables.sessions.delete(tenant.keys.session(sid));
      delete data.passport;

      await expect(
        tenant.writer.save(sid, data, specBudget(), requestArrived()),
      ).rejects.toBeInstanceOf(SessionRevokedException);

      expect(calls).toEqual(['write XX']);
      expect(events).toEqual([]);
    });
  });

  describe('save: objects of a caller’s own (no request)', () => {
    it('stores a loaded object under another id as a new session there, not as a write-back', async () => {
      const { data } = await loggedIn('alice');
      const copy = newSid();

      await tenant.writer.save(copy, data, specBudget());

      expect(calls).toEqual(['admit alice', 'write', 'confirm alice']);
      expect(tenant.owners.interpret(copy, stored(copy)!)?.verdict).toBe('owned');
    });

    it('stores an object again after its session was destroyed (each store is an upsert)', async () => {
      const sid = newSid();
      const session = { cookie: specCookie(), theme: 'dark' };
      await tenant.writer.save(sid, session, specBudget());
      await tenant.writer.erase(sid, specBudget());

      await tenant.writer.save(sid, session, specBudget());

      expect(JSON.parse(stored(sid)!)).toMatchObject({ theme: 'dark' });
    });
  });

  it('erases a session whose own expiry has passed instead of writing it', async () => {
    const { sid, data } = await loggedIn('alice');
    data.cookie = { expires: new Date(Date.now() - 1000).toISOString(), path: '/' };

    await tenant.writer.save(sid, data, specBudget(), requestArrived());

    // Starting from the value it loaded: nothing to read first.
    expect(calls).toEqual(['unindex alice (revoking)', 'delete if unchanged']);
    expect(stored(sid)).toBeUndefined();
    expect(events).toEqual(['out alice']);
  });

  describe('erase', () => {
    it('removes the entry before the key, deletes the key, and tells of the logout', async () => {
      const { sid } = await loggedIn('alice');

      await tenant.writer.erase(sid, specBudget());

      expect(calls).toEqual(['read', 'unindex alice (revoking)', 'delete if unchanged']);
      expect(events).toEqual(['out alice']);
      expect(stored(sid)).toBeUndefined();
      expect(leaseOf('alice', sid)).toBeUndefined();
    });

    it('waits for the replicas as a revocation does when it ends a logged-in session', async () => {
      const { sid } = await loggedIn('alice');

      await tenant.writer.erase(sid, specBudget());

      expect(calls).toContain('unindex alice (revoking)');
    });

    it('reads nothing when the caller holds the value it loaded (a request’s session)', async () => {
      const { sid, data } = await loggedIn('alice');

      await tenant.writer.erase(sid, specBudget(), storedValueOf(data));

      expect(calls).toEqual(['unindex alice (revoking)', 'delete if unchanged']);
      expect(events).toEqual(['out alice']);
      expect(stored(sid)).toBeUndefined();
    });

    it('ends a value written between its read and its deletion the same way, telling of the logout once', async () => {
      const { sid, data } = await loggedIn('alice');
      // Another request saves the session without its identity meanwhile (its own logout).
      keys.beforeRemoveIfHolds = () => {
        delete data.passport;
        return tenant.writer.save(sid, data, specBudget(), requestArrived());
      };

      await tenant.writer.erase(sid, specBudget());

      expect(calls).toEqual([
        'read',
        'unindex alice (revoking)',
        'delete if unchanged',
        'write XX',
        'unindex alice (revoking)',
        // What the key holds now names no owner: deleted as it is.
        'delete if unchanged',
      ]);
      expect(stored(sid)).toBeUndefined();
      expect(events).toEqual(['out alice']);
    });

    it('starts over from what the key holds when the loaded value changed since', async () => {
      const { sid, data } = await loggedIn('alice');
      const loaded = storedValueOf(data)!;
      data.theme = 'dark';
      await tenant.writer.save(sid, data, specBudget(), requestArrived());
      calls.length = 0;

      await tenant.writer.erase(sid, specBudget(), loaded);

      expect(calls).toEqual([
        'unindex alice (revoking)',
        'delete if unchanged',
        'unindex alice (revoking)',
        'delete if unchanged',
      ]);
      expect(stored(sid)).toBeUndefined();
      expect(events).toEqual(['out alice']);
    });

    it('tells of the logout once when two erases end one session, each answering after the entry went', async () => {
      const { sid } = await loggedIn('alice');
      const entryAtAnswer: (number | undefined)[] = [];
      const erase = () =>
        tenant.writer
          .erase(sid, specBudget())
          .then(() => entryAtAnswer.push(leaseOf('alice', sid)));

      await Promise.all([erase(), erase()]);

      expect(events).toEqual(['out alice']);
      expect(entryAtAnswer).toEqual([undefined, undefined]);
      expect(stored(sid)).toBeUndefined();
    });

    it('touches no index and tells nothing for an anonymous session or one already gone', async () => {
      const sid = newSid();
      await tenant.writer.save(sid, { cookie: specCookie() }, specBudget());
      calls.length = 0;

      await tenant.writer.erase(sid, specBudget());
      await tenant.writer.erase(sid, specBudget());

      expect(calls).toEqual(['read', 'delete if unchanged', 'read']);
      expect(events).toEqual([]);
    });

    it('ignores a key of another Redis type rather than failing', async () => {
      const sid = newSid();
      keys.wrongType.add(tenant.keys.session(sid));

      await expect(tenant.writer.erase(sid, specBudget())).resolves.toBeUndefined();
      expect(events).toEqual([]);
    });
  });
});
