import { deviceOf, parseDevice } from './session-device.js';

/** Real user agents, as the browsers and crawlers send them. */
const MAC_CHROME =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const IPHONE_SAFARI =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const ANDROID_CHROME =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36';
const IPAD_SAFARI =
  'Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const WINDOWS_EDGE =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0';
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

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
