import { MemoryBackend } from '../store/memory/memory-backend.js';
import { generateSessionId } from './session-id.js';
import { SessionListing } from './session-listing.js';
import {
  quietNestLogger,
  SPEC_LIFETIME_MS,
  specBudget,
  specCookie,
  specRequest,
  specTenant,
} from './tenant-sessions.fixture.js';
import type { TenantSessions } from './tenant-sessions.js';

describe('SessionListing', () => {
  let backend: MemoryBackend;

  quietNestLogger();
  beforeEach(() => (backend = new MemoryBackend()));
  afterEach(() => backend.close());

  /** A tenant's parts as buildTenantSessions puts them together, and its listing over them. */
  function tenant(
    id: string,
    keyPrefix = 'sessions:{tenant}:{app}:',
  ): { parts: TenantSessions; listing: SessionListing } {
    const parts = specTenant(backend, {
      tenant: id,
      keyTemplates: { keyPrefix, indexPrefix: 'sessions-index:{tenant}:{app}:' },
    });
    return { parts, listing: new SessionListing(parts.keys, backend.keys, parts.reader, 1000) };
  }

  async function store(on: TenantSessions, data: Record<string, unknown>): Promise<string> {
    const sid = generateSessionId({}, backend.now(), SPEC_LIFETIME_MS);
    await on.writer.save(sid, { cookie: specCookie(), ...data }, specBudget(), specRequest());
    return sid;
  }

  it("lists the ids of this tenant's sessions only: no index key, no other tenant's", async () => {
    const acme = tenant('acme');
    const acmeEu = tenant('acme-eu');
    const mine = [
      await store(acme.parts, { passport: { user: 'alice' } }),
      await store(acme.parts, {}),
    ];
    await store(acmeEu.parts, { passport: { user: 'alice' } });

    expect((await acme.listing.ids()).sort()).toStrictEqual([...mine].sort());
    expect(await acmeEu.listing.ids()).toHaveLength(1);
  });

  it('lists every session that would serve, with its id, and leaves out one that would not', async () => {
    const { parts, listing } = tenant('acme');
    const alice = await store(parts, { passport: { user: 'alice' } });
    const anonymous = await store(parts, { theme: 'dark' });
    const revoked = await store(parts, { passport: { user: 'bob' } });
    await backend.indexes.unindex(parts.keys.index('bob'), [revoked], specBudget());

    const all = await listing.all();

    expect(all.map((s) => s.id).sort()).toStrictEqual([alice, anonymous].sort());
    expect(all.find((s) => s.id === alice)).toMatchObject({ passport: { user: 'alice' } });
    expect(all.find((s) => s.id === anonymous)).toMatchObject({ theme: 'dark' });
  });

  it('changes nothing as it lists: no TTL restarted, no session deleted', async () => {
    const { parts, listing } = tenant('acme');
    const alice = await store(parts, { passport: { user: 'alice' } });
    const revoked = await store(parts, { passport: { user: 'bob' } });
    await backend.indexes.unindex(parts.keys.index('bob'), [revoked], specBudget());
    const key = parts.keys.session(alice);
    backend.tables.sessions.get(key)!.expiresAt = Date.now() + 5000;

    await listing.all();

    expect(backend.tables.sessions.get(key)!.expiresAt - Date.now()).toBeLessThanOrEqual(5000);
    expect(backend.tables.sessions.has(parts.keys.session(revoked))).toBe(true);
  });

  it("clears this tenant's sessions and user indexes, and leaves another tenant's", async () => {
    const acme = tenant('acme');
    const acmeEu = tenant('acme-eu');
    await store(acme.parts, { passport: { user: 'alice' } });
    await store(acme.parts, {});
    const kept = await store(acmeEu.parts, { passport: { user: 'alice' } });

    await acme.listing.clear();

    expect(await acme.listing.ids()).toStrictEqual([]);
    expect(backend.tables.indexes.has(acme.parts.keys.index('alice'))).toBe(false);
    expect(await acmeEu.listing.ids()).toStrictEqual([kept]);
    expect(backend.tables.indexes.has(acmeEu.parts.keys.index('alice'))).toBe(true);
    expect(await acmeEu.parts.reader.read(kept, specBudget())).not.toBeNull();
  });

  it('matches glob characters in the key prefix literally', async () => {
    const { parts, listing } = tenant('acme', 'sess[x]?:{tenant}:{app}:');
    const sid = await store(parts, {});
    // Keys the pattern would match if `[x]` or `?` were wildcards.
    const strangers = ['sessxy:acme:app:stranger', 'sess[x]y:acme:app:stranger'];
    for (const key of strangers) {
      backend.tables.sessions.set(key, {
        value: JSON.stringify({ cookie: specCookie() }),
        expiresAt: Infinity,
      });
    }

    expect(await listing.ids()).toStrictEqual([sid]);
    expect((await listing.all()).map((s) => s.id)).toStrictEqual([sid]);
    await listing.clear();
    expect(await listing.ids()).toStrictEqual([]);
    for (const key of strangers) expect(backend.tables.sessions.has(key)).toBe(true);
  });
});
