import { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { SessionStoreUnavailableException } from '../http/session-store-unavailable.exception.js';
import { DRAIN_INDEX, INDEX_SESSION } from './scripts.js';
import type { SessionBackend, SessionWrite, StoredSession } from './session-backend.interface.js';

type RedisClient = Redis | Cluster;
type Command = [name: string, ...args: (string | number)[]];

const SCAN_BATCH = 1000;

/**
 * Sessions in Redis through one shared ioredis connection (or cluster). Every call is bounded
 * by `timeoutMs`; a connection failure or timeout becomes SessionStoreUnavailableException (503),
 * whatever the client's offline-queue settings are.
 */
export class RedisSessionBackend implements SessionBackend {
  private readonly logger = new Logger('TenantSession');

  constructor(
    private readonly client: RedisClient,
    private readonly timeoutMs: number,
    private readonly ownsClient: boolean,
  ) {}

  load(key: string, ttlMs: number): Promise<string | null> {
    return this.timed(this.client.getex(key, 'PX', ttlMs));
  }

  async expire(key: string, ttlMs: number): Promise<void> {
    await this.timed(this.client.pexpire(key, ttlMs));
  }

  async write(write: SessionWrite): Promise<boolean> {
    const set: Command = [
      'set',
      write.key,
      write.value,
      ...(write.ttlMs === undefined ? ['KEEPTTL'] : ['PX', Math.max(1, Math.round(write.ttlMs))]),
      ...(write.onlyIfExists ? ['XX'] : []),
    ];
    if (!write.index) return (await this.timed(this.call(set))) === 'OK';
    const { key, sid, indexedUntil } = write.index;
    const index: Command = ['eval', INDEX_SESSION, 1, key, sid, indexedUntil, Date.now()];
    // The session goes first: a revocation racing this login then either removes both or finds
    // the entry that follows, so a live session is never left out of its index.
    const [written] = await this.timed(this.inOrder([set, index]));
    return written === 'OK';
  }

  take(key: string): Promise<string | null> {
    return this.timed(this.client.getdel(key));
  }

  async indexed(indexKey: string, now: number): Promise<{ sid: string; indexedUntil: number }[]> {
    const flat = await this.timed(
      this.client.zrangebyscore(indexKey, `(${now}`, '+inf', 'WITHSCORES'),
    );
    const entries: { sid: string; indexedUntil: number }[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      entries.push({ sid: flat[i], indexedUntil: Number(flat[i + 1]) });
    }
    return entries;
  }

  async unindex(indexKey: string, sids: string[]): Promise<void> {
    if (sids.length > 0) await this.timed(this.client.zrem(indexKey, ...sids));
  }

  async drain(indexKey: string, keep = ''): Promise<string[]> {
    const sids = (await this.timed(this.client.eval(DRAIN_INDEX, 1, indexKey, keep))) as string[];
    return sids.filter((sid) => sid !== keep);
  }

  async inspect(keys: string[]): Promise<StoredSession[]> {
    const replies = await this.timed(
      this.together(
        keys.flatMap((key): Command[] => [
          ['get', key],
          ['pttl', key],
        ]),
      ),
    );
    return keys.map((_, i) => ({
      value: replies[2 * i] as string | null,
      ttlMs: replies[2 * i + 1] as number,
    }));
  }

  /** On a cluster key by key (a multi-key DEL across slots is refused), else in batches. */
  async remove(keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    const counts = await this.timed(
      this.client.isCluster
        ? this.together(keys.map((key): Command => ['del', key]))
        : this.together(chunk(keys, SCAN_BATCH).map((part): Command => ['del', ...part])),
    );
    return counts.reduce<number>((sum, n) => sum + (n as number), 0);
  }

  async removeMatching(patterns: string[]): Promise<number> {
    // SCAN runs on each master; deletion goes through `remove`, which routes keys on a cluster.
    const nodes = this.client.isCluster ? (this.client as Cluster).nodes('master') : [this.client];
    let removed = 0;
    for (const node of nodes) {
      for (const pattern of patterns) {
        let cursor = '0';
        do {
          const [next, keys] = await this.timed(
            (node as Redis).scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_BATCH),
          );
          cursor = next;
          removed += await this.remove(keys);
        } while (cursor !== '0');
      }
    }
    return removed;
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

  async close(): Promise<void> {
    if (!this.ownsClient) return;
    await this.client.quit().catch(() => this.client.disconnect());
  }

  private call(command: Command): Promise<unknown> {
    const [name, ...args] = command;
    return this.client.call(name, ...args);
  }

  /** Several commands in one round trip; replies in order, the first error thrown. */
  private async together(commands: Command[]): Promise<unknown[]> {
    if (this.client.isCluster) return Promise.all(commands.map((c) => this.call(c)));
    return unwrap(await this.client.pipeline(commands).exec());
  }

  /** Commands applied strictly in order: one pipeline on a single node, else one at a time. */
  private async inOrder(commands: Command[]): Promise<unknown[]> {
    if (!this.client.isCluster) return this.together(commands);
    const replies: unknown[] = [];
    for (const command of commands) replies.push(await this.call(command));
    return replies;
  }

  /**
   * Bounds an operation in time and turns "Redis out of reach" into a 503. A client the module
   * created is already bounded (no offline queue, `commandTimeout`); one it was given may queue
   * while disconnected, so it gets a deadline of its own.
   */
  private timed<T>(operation: Promise<T>): Promise<T> {
    const bounded = this.ownsClient ? operation : withDeadline(operation, this.timeoutMs);
    return bounded.catch((error: unknown) => {
      // A reply error is Redis answering (bad data, a bug); anything else means it is out of reach.
      if (error instanceof Error && error.name === 'ReplyError') throw error;
      this.logger.warn(`Session store unavailable: ${(error as Error)?.message ?? error}`);
      throw new SessionStoreUnavailableException(error);
    });
  }
}

function withDeadline<T>(operation: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Redis did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  return Promise.race([operation, deadline]).finally(() => clearTimeout(timer));
}

function unwrap(results: [Error | null, unknown][] | null): unknown[] {
  if (!results) throw new Error('Pipeline was discarded');
  return results.map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}

function chunk<T>(items: T[], size: number): T[][] {
  const parts: T[][] = [];
  for (let i = 0; i < items.length; i += size) parts.push(items.slice(i, i + size));
  return parts;
}
