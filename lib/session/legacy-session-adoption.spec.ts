import { MemoryBackend } from '../store/memory/memory-backend.js';
import { ownerOf } from './session-state.js';
import {
  quietNestLogger,
  SPEC_TTL_MS,
  specBudget,
  specCookie,
  specTenant,
} from './tenant-sessions.fixture.js';
import type { TenantSessions } from './tenant-sessions.js';

/** A session id as plain express-session makes them (uid-safe, 24 bytes): no deadline in it. */
const LEGACY_SID = 'Lq3bV0x9cV8n1qkR2m4sT6uW8yA0cE2g';

describe('legacy sessions (an identity, no owner) on a tenant adopting them', () => {
  quietNestLogger();
  let backend: MemoryBackend;
  let tenant: TenantSessions;

  beforeEach(() => {
    backend = new MemoryBackend();
    tenant = specTenant(backend, { adoptLegacyUntilMs: Date.now() + 3600_000 });
  });
  afterEach(() => backend.close());

  /** Writes JSON as plain express-session + connect-redis would. */
  const storeRaw = (value: object, sid = LEGACY_SID) =>
    backend.keys.write(
      {
        key: tenant.keys.session(sid),
        value: JSON.stringify(value),
        ttlMs: SPEC_TTL_MS,
        onlyIfExists: false,
      },
      specBudget(),
    );
  const storeLegacy = (user = 'alice') => storeRaw({ cookie: specCookie(), passport: { user } });
  const entries = (user = 'alice') => tenant.index.entries(user, specBudget());
  const stored = () =>
    backend.tables.live(backend.tables.sessions, tenant.keys.session(LEGACY_SID));

  it('a legacy session is adopted on its first read: indexed under its identity, so revocable', async () => {
    await storeLegacy();
    const data = await tenant.reader.read(LEGACY_SID, specBudget());
    expect(data?.passport).toEqual({ user: 'alice' });
    expect((await entries()).map((e) => e.sid)).toEqual([LEGACY_SID]);
    expect(tenant.owners.identityOf(data)).toBe('alice');
  });

  it('an adopted session never counts as a recent login: it is dated at the epoch', async () => {
    await storeLegacy();
    const data = await tenant.reader.read(LEGACY_SID, specBudget());
    expect(ownerOf(data)).toMatchObject({ createdAt: 0, authenticatedAt: 0 });
    expect(tenant.owners.msSinceAuthentication(data)).toBeGreaterThan(50 * 365 * 24 * 3600_000);
  });

  it('an adopted session is sealed by its next save, and then reads as the module’s own', async () => {
    await storeLegacy();
    const data = await tenant.reader.read(LEGACY_SID, specBudget());
    await tenant.writer.save(LEGACY_SID, data!, specBudget());
    const raw = JSON.parse(stored()!.value as string) as { _owner?: { userId: string } };
    expect(raw._owner?.userId).toBe('alice');
    const interpreted = tenant.owners.interpret(LEGACY_SID, stored()!.value as string);
    expect(interpreted?.verdict).toBe('owned');
  });

  it('a revocation before the adoption read still ends it', async () => {
    await storeLegacy();
    await tenant.index.beginRevocation('alice', specBudget());
    expect(await tenant.reader.read(LEGACY_SID, specBudget())).toBeNull();
    expect(stored()).toBeUndefined();
    expect(await entries()).toEqual([]);
  });

  it('a revocation keeps its not-before until the adoption window ends', async () => {
    const until = Date.now() + 3600_000;
    tenant = specTenant(backend, { adoptLegacyUntilMs: until });
    await tenant.index.beginRevocation('alice', specBudget());
    const index = backend.tables.live(backend.tables.indexes, tenant.keys.index('alice'));
    expect(index?.expiresAt).toBeGreaterThanOrEqual(until);
  });

  it('an adopted session that was revoked, written back by a plain service, stays refused', async () => {
    await storeLegacy();
    await tenant.reader.read(LEGACY_SID, specBudget());
    const revoked = await tenant.index.beginRevocation('alice', specBudget());
    expect(revoked.map((e) => e.sid)).toEqual([LEGACY_SID]);
    await tenant.index.remove('alice', [LEGACY_SID], specBudget(), true);
    await storeLegacy(); // a plain instance writes back what it loaded before the revocation
    expect(await tenant.reader.read(LEGACY_SID, specBudget())).toBeNull();
  });

  it('an edited _owner is still refused, adoption or not', async () => {
    await storeRaw({
      cookie: specCookie(),
      passport: { user: 'alice' },
      _owner: { userId: 'alice', via: 'identity', createdAt: 1, indexedUntil: 9e15, seal: 'x' },
    });
    expect(await tenant.reader.read(LEGACY_SID, specBudget())).toBeNull();
    expect(await entries()).toEqual([]);
  });

  it('a session without an identity is no legacy login: it serves anonymous, unindexed', async () => {
    await storeRaw({ cookie: specCookie(), cart: 3 });
    expect((await tenant.reader.read(LEGACY_SID, specBudget()))?.cart).toBe(3);
    expect(await entries()).toEqual([]);
  });

  it('after the adoption window ends, a legacy session is refused again', async () => {
    tenant = specTenant(backend, { adoptLegacyUntilMs: Date.now() - 1 });
    await storeLegacy();
    expect(await tenant.reader.read(LEGACY_SID, specBudget())).toBeNull();
    expect(stored()).toBeUndefined();
  });

  it('an adopted session ends with the adoption window (its id carries no deadline)', async () => {
    await storeLegacy();
    const data = await tenant.reader.read(LEGACY_SID, specBudget());
    await tenant.writer.save(LEGACY_SID, data!, specBudget());
    expect(await tenant.reader.read(LEGACY_SID, specBudget())).not.toBeNull();

    for (const after of [
      specTenant(backend, { adoptLegacyUntilMs: Date.now() - 1 }),
      specTenant(backend), // the option removed
    ]) {
      expect(after.owners.interpret(LEGACY_SID, stored()!.value as string)?.verdict).toBe(
        'refused',
      );
    }
  });

  it('without adoptLegacySessions, a legacy session is refused as before', async () => {
    tenant = specTenant(backend);
    await storeLegacy();
    expect(await tenant.reader.read(LEGACY_SID, specBudget())).toBeNull();
    expect(stored()).toBeUndefined();
    expect(await entries()).toEqual([]);
  });
});
