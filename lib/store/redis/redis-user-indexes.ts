import type { OperationBudget } from '../operation-budget.js';
import { ADMIT, ADOPT, CONFIRM, ENTRIES, LEASE, PAGE, RESERVED_MEMBER_MARK } from '../scripts.js';
import type {
  Admission,
  IndexEntry,
  IndexPage,
  IndexPosition,
  LoginStart,
  UserIndexStore,
} from '../user-index-store.interface.js';
import type { Command } from './redis-command.js';
import type { RedisRoundTrips } from './redis-round-trips.js';

/** Per-user indexes in Redis: one script or command on one index key per call (scripts.ts). */
export class RedisUserIndexes implements UserIndexStore {
  constructor(
    private readonly trips: RedisRoundTrips,
    /** Told the Redis time scripts return (the clock estimate moves up to it). */
    private readonly observedTime: (redisMs: number) => void,
  ) {}

  async admit(
    indexKey: string,
    sid: string,
    leaseMs: number,
    began: LoginStart,
    budget: OperationBudget,
  ): Promise<Admission> {
    const reply = (await this.trips.run(
      'index.admit',
      () =>
        this.trips.acknowledged([
          'eval',
          ADMIT,
          1,
          indexKey,
          sid,
          Math.ceil(leaseMs),
          began.agoMs.toFixed(3),
          began.at.toFixed(3),
        ]),
      budget,
    )) as number[];
    return this.admission(reply);
  }

  async adopt(
    indexKey: string,
    sid: string,
    leaseMs: number,
    adoptUntil: number,
    budget: OperationBudget,
  ): Promise<Admission> {
    const reply = (await this.trips.run(
      'index.adopt',
      () =>
        this.trips.acknowledged([
          'eval',
          ADOPT,
          1,
          indexKey,
          sid,
          Math.ceil(leaseMs),
          Math.floor(adoptUntil),
        ]),
      budget,
    )) as number[];
    return this.admission(reply);
  }

  /** ADMIT's and ADOPT's reply. */
  private admission(reply: number[]): Admission {
    this.observedTime(reply[1]);
    return reply[0] === 1
      ? { admitted: true, now: reply[1], until: reply[2], entries: reply[3] }
      : { admitted: false };
  }

  async confirm(
    indexKey: string,
    sid: string,
    began: LoginStart,
    budget: OperationBudget,
  ): Promise<boolean> {
    const reply = await this.trips.run(
      'index.confirm',
      () =>
        this.trips.acknowledged([
          'eval',
          CONFIRM,
          1,
          indexKey,
          sid,
          began.agoMs.toFixed(3),
          began.at.toFixed(3),
        ]),
      budget,
    );
    return reply === 1;
  }

  async lease(
    indexKey: string,
    sid: string,
    leaseMs: number,
    renewBelowMs: number,
    budget: OperationBudget,
  ): Promise<number | undefined> {
    const lease = await this.trips.run(
      'index.lease',
      () =>
        this.trips.scripts.run(
          LEASE,
          [indexKey],
          [sid, Math.ceil(leaseMs), Math.ceil(renewBelowMs)],
        ),
      budget,
    );
    return lease === null ? undefined : (lease as number);
  }

  async entries(
    indexKey: string,
    revoking: boolean,
    budget: OperationBudget,
    keepNotBeforeUntil = 0,
  ): Promise<IndexEntry[]> {
    const keep = Math.floor(keepNotBeforeUntil);
    const script: Command = ['eval', ENTRIES, 1, indexKey, revoking ? '1' : '0', keep];
    const [now, ...flat] = (await this.trips.run(
      'index.entries',
      () =>
        revoking
          ? this.trips.replicas.revoked([script]).then(([reply]) => reply)
          : this.trips.call(script),
      budget,
    )) as string[];
    this.observedTime(Number(now));
    const entries: IndexEntry[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      if (!flat[i].startsWith(RESERVED_MEMBER_MARK))
        entries.push({ sid: flat[i], until: Number(flat[i + 1]) });
    }
    return entries;
  }

  async page(
    indexKey: string,
    after: IndexPosition | undefined,
    limit: number,
    budget: OperationBudget,
  ): Promise<IndexPage> {
    const [total, more, lastUntil, lastDigest, ...flat] = (await this.trips.run(
      'index.page',
      () =>
        this.trips.client.eval(
          PAGE,
          1,
          indexKey,
          limit,
          after ? String(after.until) : '',
          after?.digest ?? '',
        ),
      budget,
    )) as [number, number, string, string, ...string[]];
    const entries: IndexEntry[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      entries.push({ sid: flat[i], until: Number(flat[i + 1]) });
    }
    const next = more === 1 ? { until: Number(lastUntil), digest: lastDigest } : undefined;
    return { entries, total, next };
  }

  async unindex(
    indexKey: string,
    sids: string[],
    budget: OperationBudget,
    revoking = false,
  ): Promise<void> {
    if (sids.length === 0) return;
    const zrem: Command = ['zrem', indexKey, ...sids];
    await this.trips.run(
      'index.unindex',
      () => (revoking ? this.trips.replicas.revoked([zrem]) : this.trips.acknowledged(zrem)),
      budget,
    );
  }
}
