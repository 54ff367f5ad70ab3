import { unsafeEvictionPolicy } from './eviction-policy.js';

const info = (maxmemory: number, policy: string) =>
  `# Memory\r\nused_memory:1000\r\nmaxmemory:${maxmemory}\r\nmaxmemory_policy:${policy}\r\n`;

describe('eviction policy check', () => {
  it('accepts noeviction with a memory limit', () => {
    expect(unsafeEvictionPolicy(info(1 << 20, 'noeviction'))).toBeUndefined();
  });

  it('accepts any policy without a memory limit (nothing is ever evicted)', () => {
    expect(unsafeEvictionPolicy(info(0, 'allkeys-lru'))).toBeUndefined();
  });

  it.each([
    'allkeys-lru',
    'allkeys-lfu',
    'allkeys-random',
    'volatile-lru',
    'volatile-lfu',
    'volatile-random',
    'volatile-ttl',
  ])(
    'refuses %s with a memory limit (index keys carry a TTL, so volatile-* can pick them too)',
    (policy) => {
      expect(unsafeEvictionPolicy(info(1 << 20, policy))).toBe(policy);
    },
  );
});
