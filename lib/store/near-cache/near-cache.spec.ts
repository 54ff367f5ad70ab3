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
