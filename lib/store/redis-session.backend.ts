import { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import { SessionStoreUnavailableException } from '../errors/session-store-unavailable.exception.js';
import { UnsafeEvictionPolicyError } from '../errors/unsafe-eviction-policy.error.js';
import type { TenantSessionDurability } from '../options/tenant-session-options.interface.js';
import { unsafeEvictionPolicy } from './eviction-policy.js';
import type { OperationBudget } from './operation-budget.js';
import { unwrap, type Command } from './redis-command.js';
import { toStoreFailure } from './redis-failure.js';
import { ReplicatedWrites } from './replicated-writes.js';
import { ADMIT, CONFIRM, ENTRIES, LEASE, NOT_BEFORE_MEMBER, PAGE, READ } from './scripts.js';
import { ScriptCache } from './script-cache.js';
import type {
  Admission,
  EntryCheck,
  IndexEntry,
  IndexPage,
  IndexPosition,
  LoginStart,
  SessionBackend,
  SessionRead,
  SessionWrite,
  StoredSession,
  TtlRestart,
} from './session-backend.interface.js';
import { WriteCoalescing } from './write-coalescing.js';

type RedisClient = Redis | Cluster;

const SCAN_BATCH = 1000;
/** The scripts requests run (by digest): loaded on every server as soon as it is reachable. */
const REQUEST_SCRIPTS = [READ, LEASE];
/** How often the Redis clock offset and the eviction policy are checked again. */
const RECHECK_INTERVAL_MS = 30_000;
/** At most one "unavailable" log line per this interval: an outage fails every request. */
const REPORT_INTERVAL_MS = 5_000;
/** How long a revocation's write waits for the replicas to confirm it (without `durability`). */
const REVOCATION_WAIT_MS = 250;
/** How often a revocation asks how many replicas are online, at most. */
const REPLICA_CHECK_MS = 1_000;
/** How long a replica that went away is still waited for by revocations. */
const REPLICA_MEMORY_MS = 60_000;

/**
 * Sessions in Redis through one shared ioredis connection (or cluster). Every call waits at most
 * what its budget has left, and any failure becomes a 503 whatever the client's offline-queue
 * settings are. Keeps an estimate of the Redis server's clock (TIME) for lease decisions, and
 * refuses to serve while Redis runs a memory policy that can evict indexes (unless allowed).
 */
export class RedisSessionBackend implements SessionBackend {
  private readonly logger = new Logger('TenantSession');
  private clockOffsetMs = 0;
  private refusal: string | undefined;
  private lastReport = 0;
  private readonly recheck: NodeJS.Timeout;
  private readonly coalescing: WriteCoalescing;
  private readonly scripts: ScriptCache;
  private readonly replicated?: ReplicatedWrites;
  /** How a revocation's writes are sent (see `revoked`). */
  private readonly revocations: ReplicatedWrites;
  /**
   * The replicas a revocation waits for: every replica the primary (each master) had online
   * within REPLICA_MEMORY_MS, as last checked at `checkedAt` (performance clock).
   */
  private replicaWatch = { expected: 0, seenAt: 0, checkedAt: -Infinity };

  constructor(
    /** The module's connection; the session events bus (lib/realtime) publishes through it. */
    readonly client: RedisClient,
    private readonly ownsClient: boolean,
    private readonly allowUnsafeEviction: boolean,
    durability?: TenantSessionDurability,
  ) {
    this.recheck = setInterval(() => void this.check(), RECHECK_INTERVAL_MS).unref();
    this.coalescing = new WriteCoalescing(client);
    this.scripts = new ScriptCache(client);
    if (durability) this.replicated = new ReplicatedWrites(client, () => durability);
    // Every replica the primary had, whatever `durability` asks for the other writes: it may
    // only raise that number, never lower it (a revocation must survive the failover).
    this.revocations = new ReplicatedWrites(client, () => ({
      replicas: Math.max(this.replicaWatch.expected, durability?.replicas ?? 0),
      timeoutMs: Math.max(REVOCATION_WAIT_MS, durability?.timeoutMs ?? 0),
    }));
  }

  /**
   * Checks again on every reconnect, which may land on another server (failover, a restart
   * with another config). Started after the start-up check, which reports for itself.
   */
  watchReconnects(): void {
    this.client.on('ready', () => {
      // Maybe another primary now (a failover): its replicas are counted afresh.
      this.replicaWatch = { expected: 0, seenAt: 0, checkedAt: -Infinity };
      void this.check();
      void this.scripts.load(this.masters(), REQUEST_SCRIPTS).catch(() => undefined);
    });
  }

  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  /**
   * One command: on a single Redis the READ script, which also reads the owner's entry; on a
   * Cluster (the index lies in another slot) GETEX, or GET and PTTL, and PEXPIRE only when the
   * TTL ran down (one round trip more then).
   */
  async read(
    key: string,
    restart: TtlRestart,
    check: EntryCheck | undefined,
    budget: OperationBudget,
  ): Promise<SessionRead> {
    if (check && !this.client.isCluster) return this.readWithEntry(key, restart, check, budget);
    if (restart.mode === 'always') {
      const value = await this.timed(() => this.client.getex(key, 'PX', restart.ttlMs), budget);
      return { value, ttlMs: value === null ? -2 : restart.ttlMs };
    }
    const [stored] = await this.inspect([key], budget);
    if (stored.value === null || restart.mode === 'never') return stored;
    if (stored.ttlMs >= 0 && stored.ttlMs >= restart.ttlMs - restart.slackMs) return stored;
    await this.timed(() => this.client.pexpire(key, restart.ttlMs), budget);
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
    const [value, left, userId, lease] = (await this.timed(
      () =>
        this.scripts.run(
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
          ],
        ),
      budget,
    )) as [string | null, number, string | null, number | null];
    const read: SessionRead = { value, ttlMs: left };
    if (userId !== null) read.entry = { userId, lease: lease ?? undefined };
    return read;
  }

  async expire(key: string, ttlMs: number, budget: OperationBudget): Promise<void> {
    await this.timed(() => this.client.pexpire(key, ttlMs), budget);
  }

  async write(write: SessionWrite, budget: OperationBudget): Promise<boolean> {
    const set: Command = [
      'set',
      write.key,
      write.value,
      ...(write.ttlMs === undefined ? ['KEEPTTL'] : ['PX', Math.max(1, Math.round(write.ttlMs))]),
      ...(write.onlyIfExists ? ['XX'] : []),
    ];
    return (await this.timed(() => this.acknowledged(set), budget)) === 'OK';
  }

  take(key: string, budget: OperationBudget): Promise<string | null> {
    return this.timed(() => this.acknowledged(['getdel', key]), budget) as Promise<string | null>;
  }

  async inspect(keys: string[], budget: OperationBudget): Promise<StoredSession[]> {
    if (keys.length === 0) return [];
    const replies = await this.timed(
      () =>
        this.together(
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
    const dels = this.client.isCluster
      ? keys.map((key): Command => ['del', key])
      : chunk(keys, SCAN_BATCH).map((part): Command => ['del', ...part]);
    const counts = await this.timed(() => {
      if (revoking) return this.revoked(dels);
      return this.replicated ? this.replicated.send(dels) : this.together(dels);
    }, budget);
    return counts.reduce<number>((sum, n) => sum + (n as number), 0);
  }

  async *scan(pattern: string, budget: OperationBudget): AsyncIterable<string[]> {
    for (const node of this.masters()) {
      let cursor = '0';
      do {
        const [next, keys] = await this.timed(
          () => node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_BATCH),
          budget,
        );
        cursor = next;
        if (keys.length > 0) yield keys;
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
      for await (const keys of this.scan(pattern, budget))
        removed += await this.remove(keys, budget, revoking);
    }
    return removed;
  }

  async admit(
    indexKey: string,
    sid: string,
    leaseMs: number,
    began: LoginStart,
    budget: OperationBudget,
  ): Promise<Admission> {
    const reply = (await this.timed(
      () =>
        this.acknowledged([
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
    const reply = await this.timed(
      () =>
        this.acknowledged([
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
    const lease = await this.timed(
      () => this.scripts.run(LEASE, [indexKey], [sid, Math.ceil(leaseMs), Math.ceil(renewBelowMs)]),
      budget,
    );
    return lease === null ? undefined : (lease as number);
  }

  async entries(
    indexKey: string,
    revoking: boolean,
    budget: OperationBudget,
  ): Promise<IndexEntry[]> {
    const script: Command = ['eval', ENTRIES, 1, indexKey, revoking ? '1' : '0'];
    const flat = (await this.timed(
      () => (revoking ? this.revoked([script]).then(([reply]) => reply) : this.call(script)),
      budget,
    )) as string[];
    const entries: IndexEntry[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      if (flat[i] !== NOT_BEFORE_MEMBER) entries.push({ sid: flat[i], until: Number(flat[i + 1]) });
    }
    return entries;
  }

  async page(
    indexKey: string,
    after: IndexPosition | undefined,
    limit: number,
    budget: OperationBudget,
  ): Promise<IndexPage> {
    const [total, more, lastUntil, lastDigest, ...flat] = (await this.timed(
      () =>
        this.client.eval(
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
    await this.timed(() => (revoking ? this.revoked([zrem]) : this.acknowledged(zrem)), budget);
  }

  async ready(timeoutMs: number): Promise<boolean> {
    if (this.client.status === 'ready') return true;
    if (this.client.status === 'wait') this.client.connect().catch(() => undefined);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.client.off('ready', onReady);
        resolve(ok);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.client.once('ready', onReady);
    });
  }

  /**
   * PING on the connection the sessions use: the one server, the master a Sentinel client is
   * connected to, or every master of a Cluster (a Cluster with one master down cannot serve
   * that master's sessions). Fails like any request would: 503 reasons, within the budget.
   */
  async ping(budget: OperationBudget): Promise<void> {
    await this.timed(async () => {
      const masters = this.masters();
      if (masters.length === 0) {
        throw new SessionStoreUnavailableException('no Redis Cluster master is known');
      }
      await Promise.all(masters.map((node) => node.ping()));
    }, budget);
  }

  /**
   * Start-up check: throws UnsafeEvictionPolicyError when a server can evict indexes (unless
   * allowed). Later checks (reconnects, every 30 s) make requests answer 503 instead.
   */
  async checkAtStartup(): Promise<void> {
    const unsafe = await this.unsafeNode();
    if (unsafe && !this.allowUnsafeEviction) throw UnsafeEvictionPolicyError.create(...unsafe);
    await this.syncClock();
    await this.scripts.load(this.masters(), REQUEST_SCRIPTS);
  }

  async close(): Promise<void> {
    clearInterval(this.recheck);
    if (!this.ownsClient) return;
    await this.client.quit().catch(() => undefined);
    // QUIT leaves a Sentinel client's failover detector connected to the sentinels.
    this.client.disconnect();
  }

  private async check(): Promise<void> {
    try {
      await this.syncClock();
      const unsafe = await this.unsafeNode();
      const refusal =
        unsafe && !this.allowUnsafeEviction
          ? UnsafeEvictionPolicyError.create(...unsafe)
          : undefined;
      if (refusal && !this.refusal) this.logger.error(`${refusal.message} Refusing requests.`);
      if (!refusal && this.refusal) this.logger.log('Redis memory policy is safe again; serving.');
      this.refusal = refusal && 'Redis can evict session indexes (maxmemory-policy)';
    } catch {
      // Unreachable right now: requests say so themselves; the next ready event checks again.
    }
  }

  /** Estimates the Redis clock from TIME, halfway through the round trip. */
  private async syncClock(): Promise<void> {
    const sent = Date.now();
    const [seconds, micros] = await this.masters()[0].time();
    const received = Date.now();
    this.clockOffsetMs =
      Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - (sent + received) / 2;
  }

  private async unsafeNode(): Promise<[node: string, policy: string] | undefined> {
    for (const node of this.masters()) {
      const policy = unsafeEvictionPolicy(await node.info('memory'));
      if (policy) return [`${node.options.host}:${node.options.port}`, policy];
    }
    return undefined;
  }

  private masters(): Redis[] {
    return this.client.isCluster
      ? (this.client as Cluster).nodes('master')
      : [this.client as Redis];
  }

  private call(command: Command): Promise<unknown> {
    const [name, ...args] = command;
    return this.client.call(name, ...args);
  }

  /**
   * A write that acknowledges something (login, session change, revocation): with `durability`,
   * confirmed by replicas in the same round trip (replicated-writes.ts). TTL restarts (GETEX,
   * PEXPIRE) and lease renewals go without: the session write that follows a renewal waits.
   */
  private async acknowledged(command: Command): Promise<unknown> {
    if (!this.replicated) return this.call(command);
    const [reply] = await this.replicated.send([command]);
    return reply;
  }

  /**
   * A revocation's writes (its not-before, DELs, ZREMs). On a single primary (Sentinel),
   * confirmed (`WAIT`, same round trip) by every replica it had online within the last minute,
   * and by at least as many as `durability` asks: a failover promotes a replica, and a
   * revocation that answered must not come back then, whatever the app chose for its other
   * writes (a graceful failover otherwise loses the writes of its window). Fewer in time is a
   * 503, and a revocation is safe to run again.
   */
  private async revoked(commands: Command[]): Promise<unknown[]> {
    // A Cluster's failover of a live master is coordinated (the master stops and waits for its
    // replica); Sentinel's is not, and a killed node loses what it had either way.
    if (!this.client.isCluster) await this.watchReplicas();
    return this.revocations.send(commands);
  }

  /**
   * Refreshes the replicas a revocation waits for (at most once per REPLICA_CHECK_MS): more
   * are taken at once; fewer only once they stayed fewer for REPLICA_MEMORY_MS, so a replica
   * lost in a failover's window is still waited for (and the revocation answers 503).
   */
  private async watchReplicas(): Promise<void> {
    const watch = this.replicaWatch;
    if (performance.now() - watch.checkedAt < REPLICA_CHECK_MS) return;
    const online = await this.countOnlineReplicas();
    const now = performance.now();
    if (online >= watch.expected || now - watch.seenAt > REPLICA_MEMORY_MS) {
      if (online < watch.expected) {
        this.logger.warn(`Revocations now wait for ${online} replica(s), not ${watch.expected}`);
      }
      watch.expected = online;
      watch.seenAt = now;
    }
    watch.checkedAt = now;
  }

  /** The fewest replicas online behind any master (`INFO replication`). */
  private async countOnlineReplicas(): Promise<number> {
    const infos = await Promise.all(this.masters().map((node) => node.info('replication')));
    const counts = infos.map((info) => (info.match(/^slave\d+:.*state=online/gm) ?? []).length);
    return counts.length === 0 ? 0 : Math.min(...counts);
  }

  /** Several commands in one round trip; replies in order, the first error thrown. */
  private async together(commands: Command[]): Promise<unknown[]> {
    if (this.client.isCluster) return Promise.all(commands.map((c) => this.call(c)));
    return unwrap(await this.client.pipeline(commands).exec());
  }

  /**
   * Runs one round trip within what the budget has left (nothing is sent when it is spent) and
   * turns any failure into a 503 (or WrongTypeError). A timed-out command may still run later
   * on a frozen server; every caller is ordered so that this is harmless.
   */
  private timed<T>(operation: () => Promise<T>, budget: OperationBudget): Promise<T> {
    const refused = this.refusal
      ? new SessionStoreUnavailableException(this.refusal)
      : budget.remainingMs <= 0
        ? new SessionStoreUnavailableException('Redis timed out')
        : undefined;
    if (refused) return Promise.reject(this.failed(refused));
    const started = performance.now();
    const allowedMs = budget.remainingMs;
    // One promise and one timer per round trip (this runs for every command a request sends).
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = (error: unknown, value?: T, timedOut = false) => {
        // A reply after the deadline changes nothing: the round trip already failed.
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.coalescing.answered();
        // A timer may fire a fraction of a millisecond early: timing out spends it all.
        const spentMs = performance.now() - started;
        budget.spend(timedOut ? Math.max(spentMs, allowedMs) : spentMs);
        if (error === undefined) resolve(value as T);
        else reject(this.failed(error));
      };
      const timer = setTimeout(
        () => settle(new SessionStoreUnavailableException('Redis timed out'), undefined, true),
        allowedMs,
      );
      let sent: Promise<T>;
      try {
        this.coalescing.sending();
        sent = operation();
      } catch (error) {
        sent = Promise.reject(error as Error);
      }
      sent.then(
        (value) => settle(undefined, value),
        (error: unknown) => settle(error ?? new Error('Redis command failed')),
      );
    });
  }

  /** Any failure as the 503 (or WrongTypeError) it becomes; a 503 is reported (throttled). */
  private failed(error: unknown): Error {
    const failure = toStoreFailure(error);
    if (failure instanceof SessionStoreUnavailableException) this.report(failure.reason);
    return failure;
  }

  private report(reason: string): void {
    if (Date.now() - this.lastReport < REPORT_INTERVAL_MS) return;
    this.lastReport = Date.now();
    this.logger.warn(`Session store unavailable: ${reason}`);
  }
}

function chunk<T>(items: T[], size: number): T[][] {
  const parts: T[][] = [];
  for (let i = 0; i < items.length; i += size) parts.push(items.slice(i, i + size));
  return parts;
}
