import { jest } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SessionRevokedEvent } from '../options/session-revoked.event.js';
import { sessionHandle } from '../session/session-handle.js';
import { generateSessionId } from '../session/session-id.js';
import { SessionLifecycle } from '../session/session-lifecycle.js';
import type { TenantSessionRegistry } from '../session/tenant-session.registry.js';
import {
  quietNestLogger,
  SPEC_LIFETIME_MS,
  specBudget,
  specRequest,
  specTenant,
} from '../session/tenant-sessions.fixture.js';
import type { TenantSessions } from '../session/tenant-sessions.js';
import { MemoryBackend } from '../store/memory/memory-backend.js';
import { RevocationEvents } from './revocation-events.js';
import { SessionCap } from './session-cap.js';
import { SessionRevoker } from './session-revoker.js';

const CAP = 2;

describe('SessionCap', () => {
  let backend: MemoryBackend;
  let tenant: TenantSessions;
  let cap: SessionCap;
  let heard: SessionRevokedEvent[];

  quietNestLogger();
  beforeEach(() => {
    backend = new MemoryBackend();
    const lifecycle = new SessionLifecycle();
    tenant = specTenant(backend, { lifecycle });
    heard = [];
    const events = new RevocationEvents();
    events.listen((event) => void heard.push(event));
    const registry = { get: async () => tenant } as unknown as TenantSessionRegistry;
    cap = new SessionCap(registry, new SessionRevoker(events), CAP, 1000);
    // As the module wires it at start.
    lifecycle.listen(cap);
  });
  afterEach(() => backend.close());

  const exists = (sid: string) => backend.tables.sessions.has(tenant.keys.session(sid));

  /** A login as a request stores it; logins a few ms apart, so their times differ. */
  async function login(userId: string): Promise<string> {
    await sleep(2);
    const sid = generateSessionId({}, backend.now(), SPEC_LIFETIME_MS);
    await tenant.writer.save(
      sid,
      { cookie: {}, passport: { user: userId } },
      specBudget(),
      specRequest(),
    );
    return sid;
  }

  it("revokes nothing, and reads none of the user's sessions, while within the cap", async () => {
    const reads = jest.spyOn(tenant.reader, 'ownedBy');
    const sids = [await login('alice'), await login('alice')];

    expect(sids.map(exists)).toEqual([true, true]);
    expect(heard).toEqual([]);
    expect(reads).not.toHaveBeenCalled();
  });

  it("revokes the user's oldest login once a login past the cap is stored", async () => {
    const [oldest, middle] = [await login('alice'), await login('alice')];
    const newest = await login('alice');

    expect([oldest, middle, newest].map(exists)).toEqual([false, true, true]);
    expect(heard).toEqual([
      expect.objectContaining({
        userId: 'alice',
        reason: 'cap',
        revoked: 1,
        sessions: [sessionHandle(oldest)],
      }),
    ]);
    expect(await tenant.reader.read(oldest, specBudget())).toBeNull();
  });

  it('counts sessions, not entries: entries whose session ended push nobody out', async () => {
    const ended = [await login('alice'), await login('alice')];
    for (const sid of ended) backend.tables.sessions.delete(tenant.keys.session(sid));

    const sids = [await login('alice'), await login('alice')];

    expect(sids.map(exists)).toEqual([true, true]);
    expect(heard).toEqual([]);
  });

  it("counts each user's sessions on their own", async () => {
    await login('alice');
    await login('alice');
    const bobs = await login('bob');

    expect(exists(bobs)).toBe(true);
    expect(heard).toEqual([]);
  });

  it('says how many it revoked when applied by hand', async () => {
    const sids = [await login('alice'), await login('alice')];
    expect(await cap.enforce('acme', 'alice')).toBe(0);
    const capOfOne = new SessionCap(
      { get: async () => tenant } as unknown as TenantSessionRegistry,
      new SessionRevoker(new RevocationEvents()),
      1,
      1000,
    );

    expect(await capOfOne.enforce('acme', 'alice')).toBe(1);
    expect(sids.map(exists)).toEqual([false, true]);
  });
});
