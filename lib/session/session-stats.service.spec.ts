import { resolveOptions } from '../options/resolved-options.js';
import { Deployments } from '../store/deployments.js';
import { MemoryBackend } from '../store/memory/memory-backend.js';
import { SessionLifecycle } from './session-lifecycle.js';
import { SessionStatsService } from './session-stats.service.js';
import { specBudget, SPEC_SECRET } from './tenant-sessions.fixture.js';
import { TenantSessionRegistry } from './tenant-session.registry.js';

describe('SessionStatsService', () => {
  let memory: MemoryBackend;
  let stats: SessionStatsService;

  beforeEach(() => {
    memory = new MemoryBackend();
    const options = resolveOptions({
      tenant: { byHeader: 'x-tenant' },
      secret: SPEC_SECRET,
      appName: 'shop',
    });
    const deployments = new Deployments(new Map([['default', memory]]));
    const registry = new TenantSessionRegistry(options, deployments, new SessionLifecycle());
    stats = new SessionStatsService(options, deployments, registry);
  });
  afterEach(() => memory.close());

  /** A session key, and its entry in the user's index, as a login leaves them. */
  async function login(tenant: string, app: string, user: string, sid: string): Promise<void> {
    const budget = specBudget();
    const key = `sessions:${tenant}:${app}:${sid}`;
    await memory.keys.write({ key, value: '{}', ttlMs: 60_000, onlyIfExists: false }, budget);
    const index = `sessions-index:${tenant}:${app}:${user}`;
    const began = { agoMs: 0, at: memory.now() };
    expect(await memory.indexes.admit(index, sid, 60_000, began, budget)).toMatchObject({
      admitted: true,
    });
  }

  it("counts every tenant's sessions, indexes and entries of this app, and no other app's", async () => {
    await login('acme', 'shop', 'alice', 'a1');
    await login('acme', 'shop', 'alice', 'a2');
    await login('acme', 'shop', 'bob', 'b1');
    await login('globex', 'shop', 'carol', 'c1');
    await login('acme', 'blog', 'alice', 'x1');

    expect(await stats.all()).toEqual([
      {
        deployment: 'default',
        memory: [],
        tenants: [
          { tenant: 'acme', sessions: 3, indexes: 2, indexEntries: 3 },
          { tenant: 'globex', sessions: 1, indexes: 1, indexEntries: 1 },
        ],
      },
    ]);
  });

  it('counts one tenant, with zeros for a tenant without keys', async () => {
    await login('acme', 'shop', 'alice', 'a1');
    await login('acme2', 'shop', 'alice', 'z1');
    expect(await stats.tenant('acme')).toEqual({
      tenant: 'acme',
      sessions: 1,
      indexes: 1,
      indexEntries: 1,
    });
    expect(await stats.tenant('initech')).toEqual({
      tenant: 'initech',
      sessions: 0,
      indexes: 0,
      indexEntries: 0,
    });
  });
});
