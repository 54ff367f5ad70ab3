import { Cluster, Redis, ReplyError } from 'ioredis';
import {
  followFailovers,
  isDemotedPrimaryError,
  missingFailoverSettings,
} from './failover-settings.js';

const sentinels = [{ host: '127.0.0.1', port: 1 }];

describe('following a failover', () => {
  it('reconnects on READONLY only (a demoted primary), never on other error replies', () => {
    expect(
      isDemotedPrimaryError(
        new ReplyError("READONLY You can't write against a read only replica."),
      ),
    ).toBe(true);
    for (const message of [
      'NOREPLICAS Not enough good replicas to write.',
      'OOM command not allowed',
      'ERR x READONLY',
    ]) {
      expect(isDemotedPrimaryError(new ReplyError(message))).toBe(false);
    }
  });

  it("gives the module's Sentinel clients the failover detector and bounded sentinel questions; the app's options win", () => {
    expect(followFailovers(500, { sentinels, name: 'm' })).toMatchObject({
      failoverDetector: true,
      sentinelCommandTimeout: 500,
      reconnectOnError: isDemotedPrimaryError,
    });
    expect(followFailovers(500, { sentinels, name: 'm', failoverDetector: false })).toMatchObject({
      failoverDetector: false,
    });
    const plain = followFailovers(500, { host: 'cache' });
    expect(plain).toEqual({ host: 'cache', reconnectOnError: isDemotedPrimaryError });
  });

  it("names what an app's Sentinel client lacks to follow a failover, and nothing for others", () => {
    const bare = new Redis({ sentinels, name: 'm', lazyConnect: true });
    const detecting = new Redis({
      sentinels,
      name: 'm',
      lazyConnect: true,
      failoverDetector: true,
    });
    const complete = new Redis({
      sentinels,
      name: 'm',
      lazyConnect: true,
      failoverDetector: true,
      reconnectOnError: isDemotedPrimaryError,
    });
    const single = new Redis({ lazyConnect: true });
    const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true });

    expect(missingFailoverSettings(bare)).toBe(
      '`failoverDetector: true` and `reconnectOnError` on READONLY',
    );
    expect(missingFailoverSettings(detecting)).toBe('`reconnectOnError` on READONLY');
    expect(missingFailoverSettings(complete)).toBeUndefined();
    expect(missingFailoverSettings(single)).toBeUndefined();
    expect(missingFailoverSettings(cluster)).toBeUndefined();
    for (const client of [bare, detecting, complete, single, cluster]) client.disconnect();
  });
});
