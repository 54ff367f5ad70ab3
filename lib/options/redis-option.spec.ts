import { Cluster, Redis } from 'ioredis';
import { Redis as Redis5 } from 'ioredis5';
import { InvalidTenantSessionOptionsError } from '../errors/invalid-options.error.js';
import { checkRedisOption } from './redis-option.js';

describe('the redis option', () => {
  it('takes an ioredis 6 client and Cluster as they are', () => {
    const client = new Redis({ lazyConnect: true });
    const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true });
    expect(checkRedisOption(client, false)).toEqual({ kind: 'client', client });
    expect(checkRedisOption(cluster, false)).toEqual({ kind: 'client', client: cluster });
    client.disconnect();
    cluster.disconnect();
  });

  it('takes redis:// and rediss:// URLs and plain options', () => {
    expect(checkRedisOption('redis://127.0.0.1:6379', false)).toEqual({
      kind: 'url',
      url: 'redis://127.0.0.1:6379',
    });
    expect(checkRedisOption('rediss://cache.example.com', false).kind).toBe('url');
    expect(checkRedisOption({ host: 'cache', port: 6380 }, false)).toEqual({
      kind: 'options',
      options: { host: 'cache', port: 6380 },
    });
  });

  it('takes Sentinel options (the sentinels and the name of the master they watch)', () => {
    const sentinel = { sentinels: [{ host: 's1', port: 26379 }, { host: 's2' }], name: 'main' };
    expect(checkRedisOption(sentinel, false)).toEqual({ kind: 'options', options: sentinel });
  });

  it.each([
    ['no sentinels', { sentinels: [], name: 'main' }, /non-empty array of \{ host, port \}/],
    ['a sentinel without an address', { sentinels: [{}], name: 'main' }, /\{ host, port \}/],
    [
      'a sentinel port that is no port',
      { sentinels: [{ port: '26379' }], name: 'm' },
      /host, port/,
    ],
    [
      'sentinels without the master name',
      { sentinels: [{ host: 's1' }] },
      /redis.name is required/,
    ],
    ['a master name without sentinels', { name: 'main' }, /`sentinels` is missing/],
    [
      'a replica as the server',
      { sentinels: [{ host: 's1' }], name: 'main', role: 'slave' },
      /role must be 'master'/,
    ],
  ])('refuses Sentinel options with %s', (_, value, message) => {
    expect(() => checkRedisOption(value, false)).toThrow(InvalidTenantSessionOptionsError);
    expect(() => checkRedisOption(value, false)).toThrow(message);
  });

  it.each([
    ['an empty string (an unset REDIS_URL)', '', /empty string/],
    ['a URL of another scheme', 'http://cache:6379', /not a redis:\/\/ or rediss:\/\/ URL/],
    ['a host name without a scheme', 'cache.internal:6379', /not a redis:\/\//],
    [
      'a client of another ioredis version',
      { status: 'ready', sendCommand: () => undefined, options: {} },
      /not an ioredis 6 Redis or Cluster/,
    ],
    ['a number', 6379, /got number/],
    ['null', null, /got null/],
    ['a class instance that is not a client', new Map(), /got an instance of Map/],
  ])('refuses %s, naming it', (_, value, message) => {
    expect(() => checkRedisOption(value, false)).toThrow(InvalidTenantSessionOptionsError);
    expect(() => checkRedisOption(value, false)).toThrow(message);
  });

  it('refuses a real ioredis 5 client instead of falling back to localhost', () => {
    const old = new Redis5({ lazyConnect: true });
    expect(() => checkRedisOption(old, false)).toThrow(/not an ioredis 6 Redis or Cluster/);
    old.disconnect();
  });

  it('never shows a URL password in its error', () => {
    expect(() => checkRedisOption('memcached://user:hunter2@cache', false)).toThrow(
      /^(?!.*hunter2)/,
    );
  });

  it('runs on the embedded store outside production only, unless allowed', () => {
    expect(checkRedisOption(undefined, false, 'development')).toEqual({ kind: 'embedded' });
    expect(() => checkRedisOption(undefined, false, 'production')).toThrow(
      /no Redis configured with NODE_ENV=production/,
    );
    expect(checkRedisOption(undefined, true, 'production')).toEqual({ kind: 'embedded' });
  });
});
