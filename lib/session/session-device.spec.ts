import { deviceOf, parseDevice } from './session-device.js';
import {
  ANDROID_CHROME,
  GOOGLEBOT,
  IPAD_SAFARI,
  IPHONE_SAFARI,
  MAC_CHROME,
  WINDOWS_EDGE,
} from './user-agents.fixture.js';

describe('parseDevice', () => {
  it.each([
    [
      'desktop Chrome on macOS',
      MAC_CHROME,
      { browser: 'Chrome', browserVersion: '131.0.0.0', os: 'macOS', type: 'desktop' },
    ],
    [
      'Safari on an iPhone',
      IPHONE_SAFARI,
      { browser: 'Safari', browserVersion: '17.5', os: 'iOS', type: 'mobile' },
    ],
    [
      'Chrome on an Android phone',
      ANDROID_CHROME,
      { browser: 'Chrome', browserVersion: '131.0.0.0', os: 'Android', type: 'mobile' },
    ],
    [
      'Safari on an iPad',
      IPAD_SAFARI,
      { browser: 'Safari', browserVersion: '17.5', os: 'iOS', type: 'tablet' },
    ],
    [
      'Edge on Windows',
      WINDOWS_EDGE,
      { browser: 'Microsoft Edge', browserVersion: '131.0.0.0', os: 'Windows', type: 'desktop' },
    ],
    ['a crawler as a bot', GOOGLEBOT, { browser: 'Googlebot', browserVersion: '2.1', type: 'bot' }],
  ])('reads %s', (_, userAgent, device) => {
    expect(parseDevice(userAgent)).toEqual(device);
  });

  it('makes an unknown device of no, an empty or a blank user agent', () => {
    expect(parseDevice(undefined)).toEqual({ type: 'unknown' });
    expect(parseDevice('')).toEqual({ type: 'unknown' });
    expect(parseDevice('   ')).toEqual({ type: 'unknown' });
  });

  it('leaves out what it does not recognise', () => {
    expect(parseDevice('curl/8.5.0')).toEqual({ type: 'unknown' });
    expect(parseDevice('Mozilla/5.0 (Laptop) SampleTest')).toEqual({ type: 'unknown' });
  });
});

describe('deviceOf a stored owner', () => {
  it('takes the device recorded at login', () => {
    const device = { browser: 'Firefox', browserVersion: '133.0', os: 'Linux', type: 'desktop' };
    expect(deviceOf({ device, userAgent: MAC_CHROME })).toBe(device);
  });

  it('parses the user agent of a session stored before devices were recorded', () => {
    expect(deviceOf({ userAgent: IPHONE_SAFARI })).toEqual(parseDevice(IPHONE_SAFARI));
    expect(deviceOf({})).toEqual({ type: 'unknown' });
  });

  it('parses the user agent again when the stored record is not shaped like a device', () => {
    for (const device of [null, 'Chrome', { type: 'phone' }, { type: 'mobile', browser: 7 }]) {
      expect(deviceOf({ device, userAgent: ANDROID_CHROME })).toEqual(parseDevice(ANDROID_CHROME));
    }
  });
});
