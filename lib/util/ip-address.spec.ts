import { unmappedIp } from './ip-address.js';

describe('unmappedIp', () => {
  it('shows an IPv4-mapped IPv6 address as IPv4', () => {
    expect(unmappedIp('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(unmappedIp('::FFFF:203.0.113.9')).toBe('203.0.113.9');
  });

  it('leaves IPv4, IPv6 and what is not an address as they are', () => {
    expect(unmappedIp('127.0.0.1')).toBe('127.0.0.1');
    expect(unmappedIp('2001:db8::1')).toBe('2001:db8::1');
    expect(unmappedIp('::ffff:7f00:1')).toBe('::ffff:7f00:1');
    expect(unmappedIp('::ffff:not-an-ip')).toBe('::ffff:not-an-ip');
    expect(unmappedIp(undefined)).toBeUndefined();
  });
});
