import type { OperationBudget } from '../operation-budget.js';
import { DELETE_IF_UNCHANGED, READ } from '../session-scripts.js';
import type {
  ScanPage,
  ScanPosition,
  EntryCheck,
  Expiry,
  SessionKeyStore,
  SessionRead,
  SessionWrite,
  StoredSession,
  TtlRestart,
} from '../session-key-store.interface.js';
import type { Command } from './redis-command.js';
import { mastersOf } from './redis-masters.js';
import type { RedisRoundTrips } from './redis-round-trips.js';

const SCAN_BATCH = 1000;

/** Session keys in Redis: one command per call, except where a call says otherwise. */
export class RedisSessionKeys implements SessionKeyStore {
  constructor(private readonly trips: RedisRoundTrips) {}

  /**
   * One command: on a single Redis the READ script, which also reads the owner's entry; on a
   * Cluster (the index lies in another slot) GETEX, or GET and PTTL, and PEXPIRE(AT) only when
   * the TTL ran down (one round trip more then).
   */
  async read(
    key: string,
    restart: TtlRestart,
    check: EntryCheck | undefined,
    budget: OperationBudget,
  ): Promise<SessionRead> {
    if (check && !this.trips.client.isCluster)
      return this.readWithEntry(key, restart, check, budget);
    if (restart.mode === 'always') {
      const value = await this.trips.run(
        'session.read',
        () =>
          restart.expiresAt === undefined
            ? this.trips.client.getex(key, 'PX', restart.ttlMs)
            : this.trips.client.getex(key, 'PXAT', restart.expiresAt),
        budget,
      );
      return { value, ttlMs: value === null ? -2 : restart.ttlMs };
    }
    const [stored] = await this.inspect([key], budget);
    if (stored.value === null || restart.mode === 'never') return stored;
    if (stored.ttlMs >= 0 && stored.ttlMs >= restart.ttlMs - restart.slackMs) return stored;
    await this.expire(key, restart, budget);
    return { value: stored.value, ttlMs: restart.ttlMs };
  }

  private async readWithEntry(
    key: string,
    restart: TtlRestart,
    check: EntryCheck,
    budget: OperationBudget,
  ): Promise<SessionRead> {
    const ttlMs = restart.mode === 'never' ? 0 : restart.ttlMs;
    const slackMs = restart.mode === 'ran-down' ? restart.slackMs : 0;
    const [value, left, userId, lease] = (await this.trips.run(
      'session.read',
      () =>
        this.trips.scripts.run(
          READ,
          [key],
          [
            restart.mode,
            Math.round(ttlMs),
            Math.round(slackMs),
            check.indexPrefix,
            check.sid,
            Math.ceil(check.leaseMs),
            Math.ceil(check.renewBelowMs),
            restart.mode === 'never' || restart.expiresAt === undefined ? '' : restart.expiresAt,
          ],
        ),
      budget,
    )) as [string | null, number, string | null, number | null];
    const read: SessionRead = { value, ttlMs: left };
    if (userId !== null) read.entry = { userId, lease: lease ?? undefined };
    return read;
  }

  async expire(key: string, { ttlMs, expiresAt }: Expiry, budget: OperationBudget): Promise<void> {
    await this.trips.run(
      'session.expire',
      () =>
        expiresAt === undefined
          ? this.trips.client.pexpire(key, ttlMs)
          : this.trips.client.pexpireat(key, expiresAt),
      budget,
    );
  }

  async write(write: SessionWrite, budget: OperationBudget): Promise<boolean> {
    // Built in place: every modifying request comes here (no spread arrays).
    const set: Command =
      write.expiresAt !== undefined
        ? ['set', write.key, write.value, 'PXAT', write.expiresAt]
        : write.ttlMs === undefined
          ? ['set', write.key, write.value, 'KEEPTTL']
          : ['set', write.key, write.value, 'PX', Math.max(1, Math.round(write.ttlMs))];
    if (write.onlyIfExists) set.push('XX');
    return (
      (await this.trips.run('session.write', () => this.trips.acknowledged(set), budget)) === 'OK'
    );
  }

  /** One script (DELETE_IF_UNCHANGED), sent whole: the value it compares is as long anyway. */
  async removeIfHolds(
    key: string,
    value: string,
    budget: OperationBudget,
  ): Promise<true | string | null> {
    const reply = await this.trips.run(
      'session.discard',
      () => this.trips.acknowledged(['eval', DELETE_IF_UNCHANGED, 1, key, value]),
      budget,
    );
    return reply === 1 ? true : (reply as string | null);
  }

  async inspect(keys: string[], budget: OperationBudget): Promise<StoredSession[]> {
    if (keys.length === 0) return [];
    const replies = await this.trips.run(
      'session.inspect',
      () =>
        this.trips.together(
          keys.flatMap((key): Command[] => [
            ['get', key],
            ['pttl', key],
          ]),
        ),
      budget,
    );
    return keys.map((_, i) => ({
      value: replies[2 * i] as string | null,
      ttlMs: replies[2 * i + 1] as number,
    }));
  }

  /**
   * One round trip: on a cluster one DEL per key (a multi-key DEL across slots is refused), on
   * a single node DELs of up to 1,000 keys each.
   */
  async remove(keys: string[], budget: OperationBudget, revoking = false): Promise<number> {
    if (keys.length === 0) return 0;
    const dels = this.trips.client.isCluster
      ? keys.map((key): Command => ['del', key])
      : chunk(keys, SCAN_BATCH).map((part): Command => ['del', ...part]);
    const { replicas } = this.trips;
    const counts = await this.trips.run(
      'session.remove',
      () => (revoking ? replicas.revoked(dels) : replicas.acknowledged(dels)),
      budget,
    );
    return counts.reduce<number>((sum, n) => sum + (n as number), 0);
  }

  async *scan(
    pattern: string,
    budget: OperationBudget,
    from?: ScanPosition,
  ): AsyncIterable<ScanPage> {
    const masters = mastersOf(this.trips.client)
      .map((node) => ({ node, address: `${node.options.host}:${node.options.port}` }))
      .sort((a, b) => (a.address < b.address ? -1 : 1));
    let at = from ? masters.findIndex((m) => m.address === from.node) : 0;
    // A master gone since (a failover, a resharding): its keys are on another one now.
    if (at < 0) at = masters.findIndex((m) => m.address > from!.node);
    let cursor = from && masters[at]?.address === from.node ? from.cursor : '0';
    for (; at >= 0 && at < masters.length; at++, cursor = '0') {
      do {
        const [next, keys] = await this.trips.run(
          'session.scan',
          () => masters[at].node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_BATCH),
          budget,
        );
        cursor = next;
        const following = cursor !== '0' ? masters[at] : masters[at + 1];
        yield { keys, next: following && { node: following.address, cursor } };
      } while (cursor !== '0');
    }
  }

  async removeMatching(
    patterns: string[],
    budget: OperationBudget,
    revoking = false,
  ): Promise<number> {
    // Deletion goes through `remove`, which routes keys on a cluster. One pattern on every
    // master before the next (sessions before indexes, see scanPatterns): an interrupted
    // off-boarding must not drop one master's indexes while another's sessions live.
    let removed = 0;
    for (const pattern of patterns) {
      for await (const { keys } of this.scan(pattern, budget))
        removed += await this.remove(keys, budget, revoking);
    }
    return removed;
  }
}

function chunk<T>(items: T[], size: number): T[][] {
  const parts: T[][] = [];
  for (let i = 0; i < items.length; i += size) parts.push(items.slice(i, i + size));
  return parts;
}
