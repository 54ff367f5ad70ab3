import { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import type { TenantSessionDurability } from '../../options/tenant-session-options.interface.js';
import { unwrap, type Command } from './redis-command.js';
import { ReplicatedWrites } from './replicated-writes.js';
import { mastersOf } from './redis-masters.js';

/** How long a revocation's write waits for the replicas to confirm it (without `durability`). */
const REVOCATION_WAIT_MS = 250;
/** How long a replica that went away is still waited for by revocations. */
const REPLICA_MEMORY_MS = 60_000;

/**
 * How many replicas must hold a write before it is acknowledged. Writes that acknowledge a
 * login or a session change wait for `durability`'s count, when it is set. A revocation's writes
 * (its not-before, DELs, ZREMs) on a single primary (Sentinel) wait for every replica it had
 * online within the last minute, and at least `durability`'s count: a failover promotes a
 * replica, and a revocation that answered must not come back then, whatever the app chose for
 * its other writes (a graceful failover otherwise loses the writes of its window). Fewer in time
 * is a 503, and a revocation is safe to run again. A Cluster's failover of a live master is
 * coordinated (the master stops and waits for its replica), so there only `durability` counts.
 */
export class ReplicaPolicy {
  private readonly logger = new Logger('TenantSession');
  private readonly durable?: ReplicatedWrites;
  private readonly revocations: ReplicatedWrites;
  /**
   * The replicas a revocation waits for: every replica the primary (each master) had online
   * within REPLICA_MEMORY_MS, as last seen at `seenAt` (performance clock).
   */
  private watch = { expected: 0, seenAt: 0 };
  /** The primary the count belongs to (its `run_id`). */
  private primary?: string;

  constructor(
    private readonly client: Redis | Cluster,
    durability?: TenantSessionDurability,
  ) {
    if (durability) this.durable = new ReplicatedWrites(client, () => durability);
    this.revocations = new ReplicatedWrites(client, () => ({
      replicas: Math.max(this.watch.expected, durability?.replicas ?? 0),
      timeoutMs: Math.max(REVOCATION_WAIT_MS, durability?.timeoutMs ?? 0),
    }));
  }

  /** Writes that acknowledge a login or a change, in one round trip; their replies. */
  async acknowledged(commands: Command[]): Promise<unknown[]> {
    // One command (a request's write) goes alone: no pipeline to build.
    if (commands.length === 1) return [await this.acknowledgedOne(commands[0])];
    if (this.durable) return this.durable.send(commands);
    if (this.client.isCluster) {
      return Promise.all(commands.map(([name, ...args]) => this.client.call(name, ...args)));
    }
    return unwrap(await this.client.pipeline(commands).exec());
  }

  /**
   * One write that acknowledges a login or a change; its reply. Every modifying request's write
   * comes here: sent as it is, without the arrays and the Promise.all of a batch.
   */
  acknowledgedOne(command: Command): Promise<unknown> {
    if (this.durable) return this.durable.send([command]).then(([reply]) => reply);
    return this.client.call(...command);
  }

  /** A revocation's writes, in one round trip; their replies. */
  async revoked(commands: Command[]): Promise<unknown[]> {
    if (!this.client.isCluster) await this.refresh();
    return this.revocations.send(commands);
  }

  /**
   * The connection is back, maybe to another primary (a failover). The same primary keeps the
   * count remembered. Another one is counted afresh: it has one replica fewer than the old one
   * had (the promoted replica is the primary now), and the old primary rejoins as a replica
   * later, which the next revocation step counts (each one counts).
   */
  async reconnected(): Promise<void> {
    if (this.client.isCluster) return;
    const info = await (this.client as Redis).info('server');
    const primary = /^run_id:(\w+)/m.exec(info)?.[1];
    if (this.primary !== undefined && primary !== this.primary) {
      this.watch = { expected: 0, seenAt: 0 };
    }
    this.primary = primary;
  }

  /**
   * Refreshes the replicas a revocation step waits for, before each step (one INFO round trip;
   * a replica that came online a moment ago is waited for at once): more are taken at once;
   * fewer only once they stayed fewer for REPLICA_MEMORY_MS, so a replica lost in a failover's
   * window is still waited for (and the revocation answers 503).
   */
  private async refresh(): Promise<void> {
    const watch = this.watch;
    const online = await this.countOnlineReplicas();
    const now = performance.now();
    if (online >= watch.expected || now - watch.seenAt > REPLICA_MEMORY_MS) {
      if (online < watch.expected) {
        this.logger.warn(`Revocations now wait for ${online} replica(s), not ${watch.expected}`);
      }
      watch.expected = online;
      watch.seenAt = now;
    }
  }

  /** The fewest replicas online behind any master (`INFO replication`). */
  private async countOnlineReplicas(): Promise<number> {
    const infos = await Promise.all(mastersOf(this.client).map((node) => node.info('replication')));
    const counts = infos.map((info) => (info.match(/^slave\d+:.*state=online/gm) ?? []).length);
    return counts.length === 0 ? 0 : Math.min(...counts);
  }
}
