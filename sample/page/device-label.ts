import type { ActiveSession } from 'nestjs-tenant-session';

/**
 * A session's device as people name it: "Chrome 131 on macOS", "Safari 17 on iOS",
 * "Googlebot 2.1 (bot)". What the parser did not recognise shows as the raw user agent (the
 * page cuts it to one line), and no user agent at all as "Unknown device".
 */
export function deviceLabel({ device, userAgent }: Pick<ActiveSession, 'device' | 'userAgent'>) {
  const { browser, browserVersion, os, type } = device;
  if (!browser && !os) return userAgent?.trim() || 'Unknown device';
  // The major version is what people know ("Chrome 131"); a bot's own is kept ("2.1").
  const version = type === 'bot' ? browserVersion : browserVersion?.split('.')[0];
  const name = [browser ?? 'A browser', version].filter(Boolean).join(' ');
  if (type === 'bot') return `${name} (bot)`;
  return os ? `${name} on ${os}` : name;
}
