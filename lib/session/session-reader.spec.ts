import { SessionRevokedException } from '../errors/session-revoked.exception.js';
import { SessionStoreUnavailableException } from '../errors/session-store-unavailable.exception.js';
import { WrongTypeError } from '../errors/wrong-type.error.js';
import { MemoryBackend } from '../store/memory/memory-backend.js';
import { MemorySessionKeys } from '../store/memory/memory-session-keys.js';
import { OperationBudget } from '../store/operation-budget.js';
import type {
  EntryCheck,
  SessionRead,
  StoredSession,
  TtlRestart,
} from '../store/session-key-store.interface.js';
import { deadlineOfSessionId, generateSessionId } from './session-id.js';
import { SessionLifecycle, type LogoutEvent } from './session-lifecycle.js';
import { isPersisted, ownerOf, ttlRestartOf } from './session-state.js';
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

const OTHER_SECRET = 'reader-spec-other-secret-0123456789';

/** The in-process backend, with a store clock that can be moved ahead (deadlines read it). */
class ClockedBackend extends MemoryBackend {
  aheadMs = 0;
  override now(): number {
    return super.now() + this.aheadMs;
  }
}

/** Session keys where some keys hold another Redis type (something else wrote there). */
class KeysWithWrongTypes extends MemorySessionKeys {
  readonly wrongType = new Set<string>();

  override async read(
    key: string,
    restart: TtlRestart,
    check: EntryCheck | undefined,
    budget: OperationBudget,
  ): Promise<SessionRead> {
    const read = await super.read(key, restart, check, budget);
    this.refuse([key]);
    return read;
  }

  override async inspect(keys: string[], budget: OperationBudget): Promise<StoredSession[]> {
    const found = await super.inspect(keys, budget);
    this.refuse(keys);
    return found;
  }

  private refuse(keys: string[]): void {
    if (keys.some((key) => this.wrongType.has(key))) {
      throw new WrongTypeError('WRONGTYPE Operation against a key holding the wrong kind of value');
    }
  }
}

describe('SessionReader', () => {
  let backend: ClockedBackend;
  let tenant: TenantSessions;
  let logouts: LogoutEvent[];

  quietNestLogger();

  beforeEach(() => {
    backend = new ClockedBackend();
    const lifecycle = new SessionLifecycle();
    logouts = [];
    lifecycle.listen({ loggedOut: (event) => logouts.push(event) });
    tenant = specTenant(backend, { lifecycle });
  });
  afterEach(() => backend.close());

  const newSid = () => generateSessionId({}, backend.now(), SPEC_LIFETIME_MS);
  const keyOf = (sid: string) => tenant.keys.session(sid);
  const stored = (sid: string) => backend.tables.sessions.get(keyOf(sid));
  const leaseOf = (userId: string, sid: string) =>
    backend.tables.indexes.get(tenant.keys.index(userId))?.value.leases.get(sid);
  const ttlLeft = (sid: string) => stored(sid)!.expiresAt - backend.now();
  /** Writes JSON at a session key as another client would. */
  const writeRaw = (sid: string, value: string, ttlMs = SPEC_TTL_MS) =>
    backend.tables.sessions.set(keyOf(sid), { value, expiresAt: backend.now() + ttlMs });

  /** A login as a request stores it: the identity appears on a new session, which is saved. */
  async function login(userId: string, on = tenant, sid = newSid()): Promise<string> {
    const session = { cookie: specCookie(), passport: { user: userId } };
    await on.writer.save(sid, session, specBudget(), specRequest());
    return sid;
  }

  describe('read: a session serves only while its user index admits it', () => {
    it('serves a logged-in session with its owner, its idle TTL restarted', async () => {
      const sid = await login('alice');
      stored(sid)!.expiresAt = Date.now() + 1000;

      const data = await tenant.reader.read(sid, specBudget());

      expect(data?.passport).toEqual({ user: 'alice' });
      expect(ownerOf(data)).toMatchObject({ userId: 'alice', indexedUntil: leaseOf('alice', sid) });
      expect(ttlLeft(sid)).toBeGreaterThan(SPEC_TTL_MS - 1000);
      expect(ttlRestartOf(data!)).toMatchObject({ ttlMs: SPEC_TTL_MS, by: 'read' });
      expect(isPersisted(data!)).toBe(true);
    });

    it('deletes a session whose entry a revocation removed on its next read, and serves nothing', async () => {
      const sid = await login('alice');
      await backend.indexes.unindex(tenant.keys.index('alice'), [sid], specBudget());

      expect(await tenant.reader.read(sid, specBudget())).toBeNull();
      expect(stored(sid)).toBeUndefined();
    });

    it('deletes a session whose user index is gone altogether (an evicted index logs out)', async () => {
      const sid = await login('alice');
      backend.tables.indexes.delete(tenant.keys.index('alice'));

      expect(await tenant.reader.read(sid, specBudget())).toBeNull();
      expect(stored(sid)).toBeUndefined();
    });

    it('serves nothing once its entry’s lease has passed, even with the key still there', async () => {
      const sid = await login('alice');
      backend.tables.indexes
        .get(tenant.keys.index('alice'))!
        .value.leases.set(sid, backend.now() - 1);

      expect(await tenant.reader.read(sid, specBudget())).toBeNull();
      expect(stored(sid)).toBeUndefined();
    });

    it('renews a lease running low (under 2 TTLs left) to 3 TTLs from now', async () => {
      const sid = await login('alice');
      const low = Math.floor(backend.now() + 1.5 * SPEC_TTL_MS);
      backend.tables.indexes.get(tenant.keys.index('alice'))!.value.leases.set(sid, low);

      const data = await tenant.reader.read(sid, specBudget());

      expect(leaseOf('alice', sid)).toBeGreaterThan(backend.now() + 2.9 * SPEC_TTL_MS);
      expect(ownerOf(data)?.indexedUntil).toBe(leaseOf('alice', sid));
    });

    it('leaves a lease with more than 2 TTLs left as it is (no write per read)', async () => {
      const sid = await login('alice');
      const lease = leaseOf('alice', sid);

      await tenant.reader.read(sid, specBudget());

      expect(leaseOf('alice', sid)).toBe(lease);
    });

    it('refuses and deletes a session whose owner was sealed with a secret this tenant lacks', async () => {
      const elsewhere = specTenant(backend, { secrets: [OTHER_SECRET] });
      const sid = await login('alice', elsewhere);
      expect(leaseOf('alice', sid)).toBeDefined();

      expect(await tenant.reader.read(sid, specBudget())).toBeNull();
      expect(stored(sid)).toBeUndefined();
    });

    it('refuses and deletes a session whose data names a user no owner vouches for', async () => {
      const sid = await login('alice');
      // Another service rewrote the JSON with an identity, and without the sealed owner.
      writeRaw(sid, JSON.stringify({ cookie: specCookie(), passport: { user: 'alice' } }));

      expect(await tenant.reader.read(sid, specBudget())).toBeNull();
      expect(stored(sid)).toBeUndefined();
    });

    it('refuses a session whose data was edited to name another user than its owner', async () => {
      const sid = await login('alice');
      const json = JSON.parse(stored(sid)!.value) as { passport: { user: string } };
      json.passport.user = 'admin';
      writeRaw(sid, JSON.stringify(json));

      expect(await tenant.reader.read(sid, specBudget())).toBeNull();
      expect(stored(sid)).toBeUndefined();
    });

    it('serves an anonymous session without asking any index', async () => {
      const sid = newSid();
      writeRaw(sid, JSON.stringify({ cookie: specCookie(), cart: [1, 2] }));

      const data = await tenant.reader.read(sid, specBudget());

      expect(data?.cart).toEqual([1, 2]);
      expect(ownerOf(data)).toBeUndefined();
      expect(backend.tables.indexes.size).toBe(0);
    });

    it('serves nothing for corrupt data, and nothing for a session that is not there', async () => {
      const sid = newSid();
      writeRaw(sid, '{"cookie":');
      expect(await tenant.reader.read(sid, specBudget())).toBeNull();
      expect(await tenant.reader.read(newSid(), specBudget())).toBeNull();
    });

    it('erases a session past its absolute deadline unread: its key, its entry, and a logout told', async () => {
      const sid = await login('alice');
      backend.aheadMs = SPEC_LIFETIME_MS + 2000;

      expect(await tenant.reader.read(sid, specBudget())).toBeNull();

      expect(stored(sid)).toBeUndefined();
      expect(leaseOf('alice', sid)).toBeUndefined();
      expect(logouts).toEqual([{ tenant: 'acme', deployment: 'default', userId: 'alice', sid }]);
    });

    it('cuts the restarted TTL short at the absolute deadline its id carries: the key expires at it', async () => {
      const sid = await login('alice');
      backend.aheadMs = SPEC_LIFETIME_MS - 10_000;

      expect(await tenant.reader.read(sid, specBudget())).not.toBeNull();

      // At the deadline itself (the store's clock, moved ahead here), however late the read ran.
      expect(stored(sid)!.expiresAt).toBe(deadlineOfSessionId(sid));
      expect(stored(sid)!.expiresAt - backend.now()).toBeLessThanOrEqual(11_000);
      expect(stored(sid)!.expiresAt - backend.now()).toBeGreaterThan(9_000);
    });

    it('erases a session whose cookie expiry (data written by hand) has passed', async () => {
      const sid = newSid();
      const expires = new Date(Date.now() - 1000).toISOString();
      writeRaw(sid, JSON.stringify({ cookie: { expires, path: '/' } }));

      expect(await tenant.reader.read(sid, specBudget())).toBeNull();
      expect(stored(sid)).toBeUndefined();
    });

    it('gives a session whose own max-age differs from what its id says its own TTL', async () => {
      const sid = newSid();
      writeRaw(sid, JSON.stringify({ cookie: specCookie(5 * SPEC_TTL_MS) }), 1000);

      const data = await tenant.reader.read(sid, specBudget());

      expect(data).not.toBeNull();
      expect(ttlLeft(sid)).toBeGreaterThan(5 * SPEC_TTL_MS - 1000);
      expect(ttlRestartOf(data!)?.ttlMs).toBe(5 * SPEC_TTL_MS);
    });

    it('hands back loaded data that a later save writes only if the session still exists', async () => {
      const sid = await login('alice');
      const data = (await tenant.reader.read(sid, specBudget()))!;
      backend.tables.sessions.delete(keyOf(sid));
      data.cart = ['book'];

      await expect(tenant.writer.save(sid, data, specBudget())).rejects.toBeInstanceOf(
        SessionRevokedException,
      );
      expect(stored(sid)).toBeUndefined();
    });

    it('throws a store failure rather than taking it for no session', async () => {
      const sid = await login('alice');
      const spent = new OperationBudget(0);

      await expect(tenant.reader.read(sid, spent)).rejects.toBeInstanceOf(
        SessionStoreUnavailableException,
      );
      expect(stored(sid)).toBeDefined();
    });
  });

  describe('restart: express-session’s touch', () => {
    it('restarts the TTL of a session read before, and records the restart', async () => {
      const sid = await login('alice');
      const session = (await tenant.reader.read(sid, specBudget()))!;
      stored(sid)!.expiresAt = Date.now() + 1000;

      await tenant.reader.restart(sid, session, specBudget());

      expect(ttlLeft(sid)).toBeGreaterThan(SPEC_TTL_MS - 1000);
      expect(ttlRestartOf(session)).toMatchObject({ ttlMs: SPEC_TTL_MS, by: 'read' });
    });

    it('deletes a session revoked since it was read, and records no restart', async () => {
      const sid = await login('alice');
      const session = { cookie: specCookie(), passport: { user: 'alice' } };
      await backend.indexes.unindex(tenant.keys.index('alice'), [sid], specBudget());

      await tenant.reader.restart(sid, session, specBudget());

      expect(stored(sid)).toBeUndefined();
      expect(ttlRestartOf(session)).toBeUndefined();
    });

    it('erases a session whose own expiry has passed, and tells of its logout', async () => {
      const sid = await login('alice');
      const session = {
        cookie: { expires: new Date(Date.now() - 1000).toISOString(), path: '/' },
        passport: { user: 'alice' },
      };

      await tenant.reader.restart(sid, session, specBudget());

      expect(stored(sid)).toBeUndefined();
      expect(leaseOf('alice', sid)).toBeUndefined();
      expect(logouts.map((e) => e.sid)).toEqual([sid]);
    });
  });

  describe('snapshots: what sockets read', () => {
    it('gives each session with its user and the TTL it has left, restarting nothing', async () => {
      const alice = await login('alice');
      const anonymous = newSid();
      writeRaw(anonymous, JSON.stringify({ cookie: specCookie(), theme: 'dark' }), 5000);
      const expiresAt = stored(alice)!.expiresAt;
      const lease = leaseOf('alice', alice);

      const [a, b] = await tenant.reader.snapshots([alice, anonymous], specBudget());

      expect(a).toMatchObject({ userId: 'alice', data: { passport: { user: 'alice' } } });
      expect(a!.ttlMs).toBeLessThanOrEqual(SPEC_TTL_MS);
      expect(b).toMatchObject({ userId: undefined, data: { theme: 'dark' } });
      expect(b!.ttlMs).toBeLessThanOrEqual(5000);
      expect(stored(alice)!.expiresAt).toBe(expiresAt);
      expect(leaseOf('alice', alice)).toBe(lease);
    });

    it('renews no lease, even one running low', async () => {
      const sid = await login('alice');
      const low = Math.floor(backend.now() + 1.5 * SPEC_TTL_MS);
      backend.tables.indexes.get(tenant.keys.index('alice'))!.value.leases.set(sid, low);

      await tenant.reader.snapshots([sid], specBudget());

      expect(leaseOf('alice', sid)).toBe(low);
    });

    it('is undefined for a session gone, corrupt, refused or revoked, and deletes none of them', async () => {
      const revoked = await login('alice');
      await backend.indexes.unindex(tenant.keys.index('alice'), [revoked], specBudget());
      const corrupt = newSid();
      writeRaw(corrupt, 'not json');
      const refused = newSid();
      writeRaw(refused, JSON.stringify({ cookie: specCookie(), passport: { user: 'mallory' } }));

      const found = await tenant.reader.snapshots(
        [newSid(), corrupt, refused, revoked],
        specBudget(),
      );

      expect(found).toStrictEqual([undefined, undefined, undefined, undefined]);
      for (const sid of [corrupt, refused, revoked]) expect(stored(sid)).toBeDefined();
    });

    it('gives a key stored without a TTL the TTL of the session’s own max-age', async () => {
      const sid = newSid();
      writeRaw(sid, JSON.stringify({ cookie: specCookie(7000) }), Infinity);

      const [snapshot] = await tenant.reader.snapshots([sid], specBudget());

      expect(snapshot?.ttlMs).toBe(7000);
    });
  });

  describe('ownedBy: a listing’s view of a user’s sessions', () => {
    it('gives the user’s own sessions with owner and TTL; others, anonymous and gone are undefined', async () => {
      const mine = await login('alice');
      const bobs = await login('bob');
      const anonymous = newSid();
      writeRaw(anonymous, JSON.stringify({ cookie: specCookie() }));

      const found = await tenant.reader.ownedBy(
        'alice',
        [mine, bobs, anonymous, newSid()],
        specBudget(),
      );

      expect(found[0]).toMatchObject({
        owner: { userId: 'alice' },
        data: { passport: { user: 'alice' } },
      });
      expect(found[0]!.ttlMs).toBeGreaterThan(SPEC_TTL_MS - 1000);
      expect(found.slice(1)).toStrictEqual([undefined, undefined, undefined]);
    });

    it('removes no index entry, even one whose session is not there (a login in flight)', async () => {
      const sid = await login('alice');
      backend.tables.sessions.delete(keyOf(sid));
      const lease = leaseOf('alice', sid);

      expect(await tenant.reader.ownedBy('alice', [sid], specBudget())).toStrictEqual([undefined]);
      expect(leaseOf('alice', sid)).toBe(lease);
    });
  });

  describe('a key of another Redis type at a session key', () => {
    let keys: KeysWithWrongTypes;
    let memory: MemoryBackend;
    let odd: TenantSessions;

    beforeEach(() => {
      memory = new MemoryBackend();
      keys = new KeysWithWrongTypes(memory.tables);
      odd = specTenant({ keys, indexes: memory.indexes, lifecycle: memory.lifecycle });
    });
    afterEach(() => memory.close());

    it('is no session to a read, rather than a failure of every request with its cookie', async () => {
      const sid = newSid();
      keys.wrongType.add(odd.keys.session(sid));

      expect(await odd.reader.read(sid, specBudget())).toBeNull();
    });

    it('makes only its own key no session when several are inspected together', async () => {
      const [good, bad] = [newSid(), newSid()];
      await login('alice', odd, good);
      keys.wrongType.add(odd.keys.session(bad));

      const found = await odd.reader.inspect([good, bad], specBudget());

      expect(found[0].value).toContain('"alice"');
      expect(found[1]).toEqual({ value: null, ttlMs: -2 });
    });

    it('still lets any other failure through', async () => {
      const sid = newSid();
      keys.wrongType.add(odd.keys.session(sid));

      await expect(odd.reader.read(sid, new OperationBudget(0))).rejects.toBeInstanceOf(
        SessionStoreUnavailableException,
      );
    });
  });
});
