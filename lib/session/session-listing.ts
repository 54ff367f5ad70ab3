import type { TenantKeys } from '../store/keys.js';
import { RoundTripBudget } from '../store/operation-budget.js';
import type { ScanPage, SessionKeyStore } from '../store/session-key-store.interface.js';
import type { SessionReader } from './session-reader.js';
import type { StoredSessionData } from './stored-session.js';

/** A session as `all()` lists it: its data plus its id, as connect-redis lists them. */
export type ListedSession = StoredSessionData & { id: string };

/**
 * One tenant's admin views of its sessions, as connect-redis offers them: every session, their
 * ids, their count, and deleting them all. A SCAN of the whole keyspace (every master of a
 * Cluster), matching this tenant's keys only (see options/key-templates.ts): O(N) in all keys,
 * for admin tools, never for a request. Each round trip may wait the operation timeout.
 */
export class SessionListing {
  constructor(
    private readonly keys: TenantKeys,
    private readonly store: SessionKeyStore,
    private readonly reader: SessionReader,
    private readonly operationTimeoutMs: number,
  ) {}

  async ids(): Promise<string[]> {
    const ids = new Set<string>();
    for await (const { keys } of this.scan()) {
      for (const key of keys) ids.add(this.keys.sidOf(key)!);
    }
    return [...ids];
  }

  /** Every session that would serve, TTLs left as they are (GET and PTTL per page). */
  async all(): Promise<ListedSession[]> {
    const sessions = new Map<string, ListedSession>();
    for await (const { keys } of this.scan()) {
      const sids = keys.map((key) => this.keys.sidOf(key)!).filter((sid) => !sessions.has(sid));
      const snapshots = await this.reader.snapshots(sids, this.budget());
      snapshots.forEach((snapshot, i) => {
        if (snapshot) sessions.set(sids[i], Object.assign(snapshot.data, { id: sids[i] }));
      });
    }
    return [...sessions.values()];
  }

  /**
   * Deletes all of this tenant's sessions and user indexes, on every master (one DEL per key
   * found). Not atomic: a login finishing meanwhile may survive it.
   */
  async clear(): Promise<void> {
    await this.store.removeMatching(this.keys.scanPatterns(), this.budget());
  }

  private scan(): AsyncIterable<ScanPage> {
    return this.store.scan(this.keys.sessionPattern(), this.budget());
  }

  private budget(): RoundTripBudget {
    return new RoundTripBudget(this.operationTimeoutMs);
  }
}
