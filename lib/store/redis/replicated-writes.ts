import type { Cluster, Redis } from 'ioredis';
import { SessionStoreUnavailableException } from '../../errors/session-store-unavailable.exception.js';
import type { TenantSessionDurability } from '../../options/tenant-session-options.interface.js';
import { unwrap, type Command } from './redis-command.js';

/** Why a write answers 503 under `durability`: said without keys or data, like any failure. */
export const NOT_REPLICATED =
  'the write was not acknowledged by enough replicas in time (durability)';

/**
 * Writes that acknowledge something (a login, a session change, a revocation), each followed by
 * `WAIT <replicas> <timeoutMs>` in the same round trip, on the same connection: WAIT counts
 * the replicas that have everything this connection wrote so far. Fewer than asked means the
 * write could vanish in a failover, so it is a failure (503) and nothing is acknowledged; the
 * write itself may still be on the primary, which every caller is ordered to tolerate (a
 * login never sends its cookie, a revocation can be run again).
 *
 * On a Cluster a pipeline goes to the master of its keyed command's slot (ioredis routes a
 * pipeline by its keys and WAIT has none), so each key gets its own [command, WAIT] there.
 */
export class ReplicatedWrites {
  /** `durability` is asked on every write: how many replicas, how long to wait for them. */
  constructor(
    private readonly client: Redis | Cluster,
    private readonly durability: () => TenantSessionDurability,
  ) {}

  /** Runs the commands in one round trip (on a Cluster, one per command, in parallel); their replies, in order. */
  async send(commands: Command[]): Promise<unknown[]> {
    if (!this.client.isCluster) return this.confirmed(commands);
    const replies = await Promise.all(commands.map((command) => this.confirmed([command])));
    return replies.flat();
  }

  private async confirmed(commands: Command[]): Promise<unknown[]> {
    const { replicas, timeoutMs } = this.durability();
    if (replicas === 0) return unwrap(await this.client.pipeline(commands).exec());
    const replies = unwrap(
      await this.client.pipeline([...commands, ['wait', replicas, timeoutMs]]).exec(),
    );
    if ((replies.pop() as number) < replicas) {
      throw new SessionStoreUnavailableException(NOT_REPLICATED);
    }
    return replies;
  }
}
