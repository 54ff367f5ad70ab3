import { SessionStoreUnavailableException } from '../../errors/session-store-unavailable.exception.js';
import { WrongTypeError } from '../../errors/wrong-type.error.js';

/** What Redis error replies mean for a request; the code is the reply's first word. */
const REPLY_REASONS: Record<string, string> = {
  OOM: 'Redis is out of memory (maxmemory reached, policy noeviction)',
  NOREPLICAS: 'not enough replicas acknowledged the write (min-replicas-to-write)',
  READONLY: 'Redis is a read-only replica (failover in progress?)',
  MASTERDOWN: 'the replica lost its primary',
  LOADING: 'Redis is loading its data set',
  BUSY: 'Redis is busy running a script',
  CLUSTERDOWN: 'the Redis Cluster is down',
  TRYAGAIN: 'the Redis Cluster is resharding',
  NOSCRIPT: 'a script is missing from the server',
};

/**
 * Turns whatever a Redis call failed with into what the request answers: WrongTypeError for a
 * key of the wrong type, otherwise SessionStoreUnavailableException (503). The reason names the
 * failure only; error messages from the client are not copied, since some carry command
 * arguments (keys, session JSON).
 */
export function toStoreFailure(error: unknown): Error {
  if (error instanceof SessionStoreUnavailableException) return error;
  const name = (error as Error | undefined)?.name;
  const message = String((error as Error | undefined)?.message ?? '');
  if (name === 'ReplyError') {
    const code = message.split(' ', 1)[0];
    if (code === 'WRONGTYPE') return new WrongTypeError('wrong Redis type at a session key');
    return new SessionStoreUnavailableException(
      REPLY_REASONS[code] ?? `Redis replied with an error (${code.replace(/[^A-Z]/g, '')})`,
    );
  }
  if (/timed out/i.test(message)) return new SessionStoreUnavailableException('Redis timed out');
  return new SessionStoreUnavailableException('Redis is unreachable');
}
