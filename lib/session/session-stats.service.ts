import { Inject, Injectable } from '@nestjs/common';
import { RESOLVED_OPTIONS, type ResolvedOptions } from '../options/resolved-options.js';
import { Deployments } from '../store/deployments.js';
import { TenantKeyFamily } from '../store/keys.js';
import { RoundTripBudget } from '../store/operation-budget.js';
import type { ServerMemory, SessionBackend } from '../store/session-backend.interface.js';
import { TenantSessionRegistry } from './tenant-session.registry.js';

/** How many keys one tenant has, by family. */
export interface TenantStats {
  tenant: string;
  /** Session keys. */
  sessions: number;
  /** Per-user index keys: the users with a session, or revoked, within the last idle TTLs. */
  indexes: number;
  /** Entries with a live lease across those indexes: an upper bound of the live sessions. */
  indexEntries: number;
}

/** One Redis deployment: its servers' memory, and every tenant of this app with keys there. */
export interface DeploymentStats {
  deployment: string;
  memory: ServerMemory[];
  tenants: TenantStats[];
}

/** One key family, with the tenant each of its keys belongs to. */
interface KeyFamily {
  pattern: string;
  tenantOf(key: string): string | undefined;
}

/**
 * Counts sessions and indexes per tenant, for operators (the CLI's `stats`). Each count walks
 * the keyspace with SCAN, on every master, once per key family: O(keys in Redis), each round
 * trip within the operation timeout however many there are. SCAN may return a key twice (while
 * Redis resizes a table, or a Cluster slot moves), so a count can exceed the truth slightly.
 */
@Injectable()
export class SessionStatsService {
  /** @internal Nest's dependency injection makes it; apps inject it. */
  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
    private readonly deployments: Deployments,
    private readonly registry: TenantSessionRegistry,
  ) {}

  /** Every deployment, the default first, with the tenants found by their keys. */
  async all(): Promise<DeploymentStats[]> {
    const { keyPrefix, indexPrefix, appName } = this.options;
    const sessions = new TenantKeyFamily(keyPrefix, appName);
    const indexes = new TenantKeyFamily(indexPrefix, appName);
    const found: DeploymentStats[] = [];
    for (const [deployment, backend] of this.deployments.entries()) {
      const budget = this.budget();
      const memory = await backend.lifecycle.memory(budget);
      const tenants = await count(backend, sessions, indexes, budget);
      found.push({ deployment, memory, tenants: [...tenants.values()] });
    }
    return found;
  }

  /** One tenant, on its own deployment (it has zeros when it has no keys). */
  async tenant(tenantId: string): Promise<TenantStats> {
    const { tenant, keys, backend } = await this.registry.get(tenantId);
    const [sessionPattern, indexPattern] = keys.scanPatterns();
    const own = (pattern: string): KeyFamily => ({ pattern, tenantOf: () => tenant });
    const counted = await count(backend, own(sessionPattern), own(indexPattern), this.budget());
    return counted.get(tenant) ?? { tenant, sessions: 0, indexes: 0, indexEntries: 0 };
  }

  private budget(): RoundTripBudget {
    return new RoundTripBudget(this.options.operationTimeoutMs);
  }
}

/** The counts of every tenant with keys of these families on this backend, by tenant id. */
async function count(
  backend: SessionBackend,
  sessions: KeyFamily,
  indexes: KeyFamily,
  budget: RoundTripBudget,
): Promise<Map<string, TenantStats>> {
  const byTenant = new Map<string, TenantStats>();
  const of = (tenant: string): TenantStats => {
    let stats = byTenant.get(tenant);
    if (!stats)
      byTenant.set(tenant, (stats = { tenant, sessions: 0, indexes: 0, indexEntries: 0 }));
    return stats;
  };
  for await (const { keys } of backend.keys.scan(sessions.pattern, budget)) {
    for (const key of keys) {
      const tenant = sessions.tenantOf(key);
      if (tenant !== undefined) of(tenant).sessions++;
    }
  }
  for await (const { keys } of backend.keys.scan(indexes.pattern, budget)) {
    const owned = keys.flatMap((key) => {
      const tenant = indexes.tenantOf(key);
      return tenant === undefined ? [] : [{ tenant, key }];
    });
    // One page of one entry tells the live entries' total (scripts.ts PAGE), for each index.
    const pages = await Promise.all(
      owned.map(({ key }) => backend.indexes.page(key, undefined, 1, budget)),
    );
    owned.forEach(({ tenant }, i) => {
      of(tenant).indexes++;
      of(tenant).indexEntries += pages[i].total;
    });
  }
  return new Map([...byTenant].sort(([a], [b]) => a.localeCompare(b)));
}
