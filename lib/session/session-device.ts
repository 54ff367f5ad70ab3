import Bowser from 'bowser';
import type { DeviceType, SessionDevice } from '../options/login-fields.interface.js';

/** What bowser calls a platform, in the kinds a listing tells apart (a TV is none of them). */
const DEVICE_TYPES: Readonly<Record<string, DeviceType>> = {
  desktop: 'desktop',
  mobile: 'mobile',
  tablet: 'tablet',
  bot: 'bot',
};

/**
 * The browser, OS and kind of device a user agent names, by bowser (a maintained parser with no
 * dependencies): done once at login and stored with the session's listing data. Whatever the
 * parser does not recognise is left out; no user agent at all is an `unknown` device.
 */
export function parseDevice(userAgent: string | undefined): SessionDevice {
  if (!userAgent?.trim()) return { type: 'unknown' };
  const { browser, os, platform } = Bowser.parse(userAgent);
  // bowser's last resort names the first `name/version` token: `Mozilla/5.0` names nothing.
  const name = browser.name === 'Mozilla' ? undefined : browser.name;
  return {
    ...(name ? { browser: name } : {}),
    ...(name && browser.version ? { browserVersion: browser.version } : {}),
    ...(os.name ? { os: os.name } : {}),
    type: DEVICE_TYPES[platform.type ?? ''] ?? 'unknown',
  };
}

/**
 * A stored session's device: the one recorded at login, or, for sessions stored before devices
 * were recorded (or a record not shaped like one), its user agent parsed now.
 */
export function deviceOf(owner: { device?: unknown; userAgent?: string }): SessionDevice {
  return isSessionDevice(owner.device) ? owner.device : parseDevice(owner.userAgent);
}

function isSessionDevice(value: unknown): value is SessionDevice {
  if (typeof value !== 'object' || value === null) return false;
  const device = value as Record<string, unknown>;
  return (
    (['desktop', 'mobile', 'tablet', 'bot', 'unknown'] as unknown[]).includes(device.type) &&
    ['browser', 'browserVersion', 'os'].every(
      (name) => device[name] === undefined || typeof device[name] === 'string',
    )
  );
}
