import { jest } from '@jest/globals';
import { ConsoleLogger, Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SessionRevokedEvent } from '../options/session-revoked.event.js';
import { setRequestFacts } from '../session/request-facts.js';
import { sessionHandle } from '../session/session-handle.js';
import { generateSessionId } from '../session/session-id.js';
import { SessionLifecycle } from '../session/session-lifecycle.js';
import type { TenantSessionRegistry } from '../session/tenant-session.registry.js';
import { buildTenantSessions, type TenantSessions } from '../session/tenant-sessions.js';
import { MemoryBackend } from '../store/memory/memory-backend.js';
import { OperationBudget } from '../store/operation-budget.js';
import { RevocationEvents } from './revocation-events.js';
import { SessionCap } from './session-cap.js';
import { SessionRevoker } from './session-revoker.js';

const SECRET = 'cap-spec-secret-0123456789abcdefghij';
const TTL_MS = 60_000;
const LIFETIME_MS = 24 * 3600_000;
const CAP = 2;

const budget = () => new OperationBudget(5000);

describe('SessionCap', () => {
  let backend: MemoryBackend;
  let tenant: TenantSessions;
  let cap: SessionCap;
  let heard: SessionRevokedEvent[];

  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(new ConsoleLogger()));
  beforeEach(() => {
    backend = new MemoryBackend();
    const lifecycle = new SessionLifecycle();
    tenant = buildTenantSessions({
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
      cookie: { path: '/', maxAge: TTL_MS },
      rolling: true,
      saveUninitialized: false,
      trustedOrigins: new Set(),
      lifecycle,
    });
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
    const sid = generateSessionId({}, backend.now(), LIFETIME_MS);
    const req = { headers: {} };
    setRequestFacts(req, {
      arrivedAt: performance.now(),
      budget: budget(),
      client: {},
      secure: false,
    });
    await tenant.writer.save(sid, { cookie: {}, passport: { user: userId } }, budget(), req);
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
    expect(await tenant.reader.read(oldest, budget())).toBeNull();
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
