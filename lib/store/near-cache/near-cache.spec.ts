import { NearCache } from './near-cache.js';

const entry = (value: string) => ({ value, expiresAt: Number.MAX_SAFE_INTEGER });

describe('NearCache', () => {
  const enabled = (max = 10) => {
    const cache = new NearCache(max);
    cache.enable();
    return cache;
  };
  const read = (cache: NearCache, key: string, value: string) =>
    cache.endRead(cache.beginRead(key), entry(value));

  it('keeps what a read found, and serves it', () => {
    const cache = enabled();
    read(cache, 'k', 'v1');
    expect(cache.get('k')?.value).toBe('v1');
  });

  it('serves nothing and keeps nothing while disabled', () => {
    const cache = new NearCache(10);
    read(cache, 'k', 'v1');
    expect(cache.get('k')).toBeUndefined();
    cache.enable();
    read(cache, 'k', 'v1');
    cache.disable();
    expect(cache.get('k')).toBeUndefined();
  });

  it('drops an entry Redis invalidated', () => {
    const cache = enabled();
    read(cache, 'k', 'v1');
    cache.invalidate('k');
    expect(cache.get('k')).toBeUndefined();
  });

  it('does not keep a reply that raced an invalidation of its key', () => {
    const cache = enabled();
    const pending = cache.beginRead('k');
    cache.invalidate('k');
    cache.endRead(pending, entry('old'));
    expect(cache.get('k')).toBeUndefined();
    // The next read, begun after the invalidation, is kept.
    read(cache, 'k', 'new');
    expect(cache.get('k')?.value).toBe('new');
  });

  it('does not keep a reply that raced an invalidation of its key, with reads overlapping', () => {
    const cache = enabled();
    const first = cache.beginRead('k');
    cache.invalidate('k');
    const second = cache.beginRead('k');
    cache.endRead(second, entry('new'));
    expect(cache.get('k')?.value).toBe('new');
    cache.endRead(first, entry('old'));
    expect(cache.get('k')?.value).toBe('new');
  });

  it('keeps an invalidation of another key from spoiling a read', () => {
    const cache = enabled();
    const pending = cache.beginRead('k');
    cache.invalidate('other');
    cache.endRead(pending, entry('v1'));
    expect(cache.get('k')?.value).toBe('v1');
  });

  it.each(['clear', 'disable then enable'])(
    'keeps no reply of a read begun before a %s (a reconnect)',
    (what) => {
      const cache = enabled();
      const pending = cache.beginRead('k');
      if (what === 'clear') cache.clear();
      else {
        cache.disable();
        cache.enable();
      }
      cache.endRead(pending, entry('old'));
      expect(cache.get('k')).toBeUndefined();
    },
  );

  it('keeps what this process wrote', () => {
    const cache = enabled();
    read(cache, 'k', 'old');
    cache.invalidate('k');
    const write = cache.beginRead('k');
    cache.endWrite(write, entry('written'));
    expect(cache.get('k')?.value).toBe('written');
  });

  it('does not keep what it wrote when Redis reported another change during the write', () => {
    const cache = enabled();
    const write = cache.beginRead('k');
    cache.invalidate('k');
    cache.endWrite(write, entry('written'));
    expect(cache.get('k')).toBeUndefined();
  });

  /** A write of this process through `around`, acknowledged when the test says. */
  const pendingWrite = (cache: NearCache, kept?: string) => {
    let ack!: () => void;
    const done = cache.around(
      ['k'],
      () => new Promise<void>((resolve) => (ack = resolve)),
      kept === undefined ? undefined : () => entry(kept),
    );
    return {
      acknowledged: async () => {
        ack();
        await done;
      },
    };
  };

  it('keeps what it wrote when its other writes of the key overlapped (one connection, in order)', async () => {
    const cache = enabled();
    const first = pendingWrite(cache, 'first');
    const second = pendingWrite(cache, 'second');
    await first.acknowledged();
    expect(cache.get('k')?.value).toBe('first');
    await second.acknowledged();
    expect(cache.get('k')?.value).toBe('second');
  });

  it('keeps neither of two overlapping writes when Redis reported a change during them', async () => {
    const cache = enabled();
    const first = pendingWrite(cache, 'first');
    const second = pendingWrite(cache, 'second');
    cache.invalidate('k');
    await first.acknowledged();
    await second.acknowledged();
    expect(cache.get('k')).toBeUndefined();
  });

  it('does not keep a write whose reply is handled after a later write of the key', async () => {
    const cache = enabled();
    const first = pendingWrite(cache, 'first');
    const second = pendingWrite(cache, 'second');
    await second.acknowledged();
    await first.acknowledged();
    expect(cache.get('k')).toBeUndefined();
  });

  it('tells a read begun during a session write when the latest one ended, its value kept', async () => {
    const cache = enabled();
    const first = pendingWrite(cache, 'first');
    const second = pendingWrite(cache, 'second');
    const ended = cache.writeEnded('k');
    let served: string | undefined;
    void ended?.then(() => (served = cache.get('k')?.value));
    await first.acknowledged();
    expect(served).toBeUndefined();
    await second.acknowledged();
    await ended;
    expect(served).toBe('second');
    expect(cache.writeEnded('k')).toBeUndefined();
  });

  it('names no session write to wait for when only a delete of this process is in flight', () => {
    const cache = enabled();
    pendingWrite(cache);
    expect(cache.writeEnded('k')).toBeUndefined();
  });

  it('does not keep a write when a delete of this process began while it was in flight', async () => {
    const cache = enabled();
    const write = pendingWrite(cache, 'written');
    const removal = pendingWrite(cache);
    await write.acknowledged();
    expect(cache.get('k')).toBeUndefined();
    await removal.acknowledged();
    expect(cache.get('k')).toBeUndefined();
  });

  it('drops what a write kept once a delete of this process begun before it is done', async () => {
    const cache = enabled();
    const removal = pendingWrite(cache);
    const write = pendingWrite(cache, 'written');
    await write.acknowledged();
    await removal.acknowledged();
    expect(cache.get('k')).toBeUndefined();
  });

  it('does not keep a read that was in flight while this process wrote the key', () => {
    const cache = enabled();
    const write = cache.beginRead('k');
    const olderRead = cache.beginRead('k');
    cache.endWrite(write, entry('written'));
    cache.endRead(olderRead, entry('before the write'));
    expect(cache.get('k')?.value).toBe('written');
  });

  it('stays within maxEntries, dropping the least recently used', () => {
    const cache = enabled(3);
    for (const key of ['a', 'b', 'c']) read(cache, key, key);
    cache.get('a');
    read(cache, 'd', 'd');
    expect(cache.size).toBe(3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.value).toBe('a');
  });

  it('keeps a read begun after an earlier raced read of the same key ended', () => {
    const cache = enabled();
    for (let i = 0; i < 100; i++) {
      const pending = cache.beginRead(`k${i}`);
      cache.invalidate(`k${i}`);
      cache.endRead(pending, undefined);
    }
    const afterwards = cache.beginRead('k0');
    cache.endRead(afterwards, entry('v'));
    expect(cache.get('k0')?.value).toBe('v');
  });
});

describe('NearCache leases', () => {
  const INDEX = 'sessions-index:acme:app:alice';
  const owner = { userId: 'alice', indexKey: INDEX, sid: 'sid-1' };
  const enabled = (max = 10) => {
    const cache = new NearCache(max);
    cache.enable();
    return cache;
  };

  it('keeps a lease Redis reported, and an answer that the index does not admit the session', () => {
    const cache = enabled();
    cache.keepLease(owner, 1_000, cache.mark());
    cache.keepLease({ indexKey: INDEX, sid: 'sid-2' }, undefined, cache.mark());

    expect(cache.leaseOf(owner)).toEqual({ lease: 1_000 });
    expect(cache.leaseOf({ ...owner, sid: 'sid-2' })).toEqual({ lease: undefined });
    expect(cache.leaseOf({ ...owner, sid: 'sid-3' })).toBeUndefined();
  });

  it('does not keep a lease read before an invalidation of its index key', () => {
    const cache = enabled();
    const before = cache.mark();
    cache.invalidate(INDEX);

    cache.keepLease(owner, 1_000, before);

    expect(cache.leaseOf(owner)).toBeUndefined();
    // One read after the invalidation is kept.
    cache.keepLease(owner, 2_000, cache.mark());
    expect(cache.leaseOf(owner)).toEqual({ lease: 2_000 });
  });

  it('keeps a lease read before an invalidation of another key', () => {
    const cache = enabled();
    const before = cache.mark();
    cache.invalidate('sessions-index:acme:app:bob');
    cache.invalidate('sessions:acme:app:sid-1');

    cache.keepLease(owner, 1_000, before);

    expect(cache.leaseOf(owner)).toEqual({ lease: 1_000 });
  });

  it("drops every lease of an index when the index key is invalidated, and only that index's", () => {
    const cache = enabled();
    const bob = { userId: 'bob', indexKey: 'sessions-index:acme:app:bob', sid: 'sid-9' };
    cache.keepLease(owner, 1_000, cache.mark());
    cache.keepLease({ ...owner, sid: 'sid-2' }, 1_000, cache.mark());
    cache.keepLease(bob, 1_000, cache.mark());

    cache.invalidate(INDEX);

    expect(cache.leaseOf(owner)).toBeUndefined();
    expect(cache.leaseOf({ ...owner, sid: 'sid-2' })).toBeUndefined();
    expect(cache.leaseOf(bob)).toEqual({ lease: 1_000 });
  });

  it('drops the leases an index write of this process replaces (around)', async () => {
    const cache = enabled();
    cache.keepLease(owner, 1_000, cache.mark());

    await cache.around([INDEX], async () => 'ZREM');

    expect(cache.leaseOf(owner)).toBeUndefined();
  });

  it('ignores a lease kept after clear(), or after a disable and enable, that was read before', () => {
    const cache = enabled();
    const beforeClear = cache.mark();
    cache.clear();
    cache.keepLease(owner, 1_000, beforeClear);
    expect(cache.leaseOf(owner)).toBeUndefined();

    const beforeReconnect = cache.mark();
    cache.disable();
    cache.enable();
    cache.keepLease(owner, 1_000, beforeReconnect);
    expect(cache.leaseOf(owner)).toBeUndefined();
  });

  it('forgets every lease on clear(), and keeps none and serves none while disabled', () => {
    const cache = enabled();
    cache.keepLease(owner, 1_000, cache.mark());
    cache.clear();
    expect(cache.leaseOf(owner)).toBeUndefined();

    cache.disable();
    cache.keepLease(owner, 1_000, cache.mark());
    expect(cache.leaseOf(owner)).toBeUndefined();
  });

  it('errs towards "changed" once the change log forgot keys to stay within its bound', () => {
    const cache = enabled(2);
    const before = cache.mark();
    // Three other keys change: the log holds two, so the first is forgotten.
    for (const key of ['a', 'b', 'c']) cache.invalidate(key);

    cache.keepLease(owner, 1_000, before);
    expect(cache.leaseOf(owner)).toBeUndefined();

    // A read that began after the forgotten change is kept again.
    cache.keepLease(owner, 2_000, cache.mark());
    expect(cache.leaseOf(owner)).toEqual({ lease: 2_000 });
  });

  it('stays exact within the bound: changes of other keys spoil no lease', () => {
    const cache = enabled(2);
    const before = cache.mark();
    cache.invalidate('a');
    cache.invalidate('b');

    cache.keepLease(owner, 1_000, before);

    expect(cache.leaseOf(owner)).toEqual({ lease: 1_000 });
  });
});
