import { isIPv4 } from 'node:net';

/** Dual-stack sockets give IPv4 clients as IPv4-mapped IPv6 addresses (RFC 4291 §2.5.5.2). */
const IPV4_MAPPED = /^::ffff:(.+)$/i;

/** An address as people read it: `::ffff:127.0.0.1` is `127.0.0.1`; anything else unchanged. */
export function unmappedIp(ip: string): string;
export function unmappedIp(ip: string | undefined): string | undefined;
export function unmappedIp(ip: string | undefined): string | undefined {
  const mapped = ip === undefined ? null : IPV4_MAPPED.exec(ip);
  return mapped && isIPv4(mapped[1]) ? mapped[1] : ip;
}
