import { deviceLabel } from '../../sample/page/device-label.js';
import { sessionTimeText } from '../../sample/page/session-times.js';

/** How the sample page words devices and times (pure functions; the page's script runs them). */
describe('the sample page’s wording', () => {
  describe('deviceLabel', () => {
    it.each([
      [
        { browser: 'Chrome', browserVersion: '131.0.0.0', os: 'macOS', type: 'desktop' },
        'Chrome 131 on macOS',
      ],
      [
        { browser: 'Safari', browserVersion: '17.5', os: 'iOS', type: 'mobile' },
        'Safari 17 on iOS',
      ],
      [{ browser: 'Firefox', os: 'Linux', type: 'desktop' }, 'Firefox on Linux'],
      [{ os: 'Android', type: 'mobile' }, 'A browser on Android'],
      [{ browser: 'Googlebot', browserVersion: '2.1', type: 'bot' }, 'Googlebot 2.1 (bot)'],
    ] as const)('names %j "%s"', (device, label) => {
      expect(deviceLabel({ device, userAgent: 'ignored when parsed' })).toBe(label);
    });

    it('shows the raw user agent when nothing in it was recognised, and "Unknown device" without one', () => {
      expect(deviceLabel({ device: { type: 'unknown' }, userAgent: 'curl/8.5.0' })).toBe(
        'curl/8.5.0',
      );
      expect(deviceLabel({ device: { type: 'unknown' }, userAgent: '  ' })).toBe('Unknown device');
      expect(deviceLabel({ device: { type: 'unknown' } })).toBe('Unknown device');
    });
  });

  describe('sessionTimeText', () => {
    const now = Date.parse('2026-12-06T14:42:30Z');
    const ago = (ms: number) => sessionTimeText('ago', now - ms, now, 'en-GB', 'UTC');
    const at = (iso: string, timeZone = 'UTC') =>
      sessionTimeText('at', Date.parse(iso), now, 'en-GB', timeZone);

    it('words how long ago: just now, minutes, hours, days', () => {
      expect(ago(0)).toBe('just now');
      expect(ago(44_000)).toBe('just now');
      expect(ago(3 * 60_000)).toBe('3 min ago');
      expect(ago(44 * 60_000)).toBe('44 min ago');
      expect(ago(2 * 3600_000)).toBe('2 hr ago');
      expect(ago(3 * 86_400_000)).toBe('3 days ago');
    });

    it('words a time today or tomorrow with the day, and any other with its date', () => {
      expect(at('2026-12-06T18:05:00Z')).toBe('today at 18:05');
      expect(at('2026-12-07T14:42:00Z')).toBe('tomorrow at 14:42');
      expect(at('2026-12-05T09:00:00Z')).toBe('yesterday at 09:00');
      expect(at('2026-12-09T14:42:00Z')).toBe('Wed 9 Dec at 14:42');
      expect(at('2027-01-12T08:00:00Z')).toBe('Tue, 12 Jan 2027 at 08:00');
    });

    it('counts days in the reader’s time zone', () => {
      // 23:30 UTC on the 6th is already the 7th in Berlin (UTC+1), and it is 15:42 there now.
      expect(at('2026-12-06T23:30:00Z')).toBe('today at 23:30');
      expect(at('2026-12-06T23:30:00Z', 'Europe/Berlin')).toBe('tomorrow at 00:30');
      expect(at('2026-12-06T22:30:00Z', 'America/Los_Angeles')).toBe('today at 14:30');
    });
  });
});
