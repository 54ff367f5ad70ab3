import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { ActiveSession } from 'nestjs-tenant-session';
import {
  ANDROID_CHROME,
  GOOGLEBOT,
  IPHONE_SAFARI,
  MAC_CHROME,
} from '../../lib/session/user-agents.fixture.js';
import { launchChromium, newDevice } from '../support/browser.js';
import { startSample, type RunningSample } from '../support/sample.js';

const SCREENSHOTS = 'test-artifacts/browser';
/** The readers' time zone: the page words times in it, whatever the server's. */
const ZONE = 'Pacific/Auckland';

const DEVICES = [
  {
    name: 'mac',
    userAgent: MAC_CHROME,
    label: 'Chrome 131 on macOS',
    device: { browser: 'Chrome', browserVersion: '131.0.0.0', os: 'macOS', type: 'desktop' },
  },
  {
    name: 'iphone',
    userAgent: IPHONE_SAFARI,
    label: 'Safari 17 on iOS',
    device: { browser: 'Safari', browserVersion: '17.5', os: 'iOS', type: 'mobile' },
  },
  {
    name: 'android',
    userAgent: ANDROID_CHROME,
    label: 'Chrome 131 on Android',
    device: { browser: 'Chrome', browserVersion: '131.0.0.0', os: 'Android', type: 'mobile' },
  },
  {
    name: 'bot',
    userAgent: GOOGLEBOT,
    label: 'Googlebot 2.1 (bot)',
    device: { browser: 'Googlebot', browserVersion: '2.1', type: 'bot' },
  },
  { name: 'empty', userAgent: '', label: 'Unknown device', device: { type: 'unknown' } },
] as const;

type Listed = Omit<ActiveSession, 'createdAt' | 'expiresAt' | 'absoluteExpiresAt'> & {
  absoluteExpiresAt: string;
};

/**
 * The sample's device list in Debian's chromium: five devices of one user, each logged in with
 * its own user agent through the page, on a server whose socket is dual-stack (so it sees
 * `::ffff:127.0.0.1`). Screenshots in test-artifacts/browser/.
 */
describe('sample device list in a browser', () => {
  let sample: RunningSample;
  let browser: Browser;
  let baseUrl: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    browser = await launchChromium();
    sample = await startSample({}, { listen: true, host: '::ffff:127.0.0.1' });
    const { port } = sample.app.getHttpServer().address() as AddressInfo;
    baseUrl = `http://acme.localhost:${port}/`;
  });
  afterAll(async () => {
    for (const context of contexts.splice(0)) await context.close();
    await sample?.close();
    await browser?.close();
  });

  async function loggedInDevice(userAgent: string): Promise<Page> {
    const context = await newDevice(browser, 'device', 10_000, { userAgent, timezoneId: ZONE });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(baseUrl);
    await page.fill('#login-form input[name=username]', 'alice');
    await page.fill('#login-form input[name=password]', 'alice-pass');
    const reloaded = page.waitForNavigation({ waitUntil: 'load' });
    await page.click('#login-form button[type=submit]');
    await reloaded;
    expect(await page.textContent('#user')).toBe('alice');
    return page;
  }

  /** `listMine()` as the page's own origin gets it (`GET /sessions`), with its cookie. */
  const listMine = async (page: Page): Promise<Listed[]> =>
    (
      (await page.evaluate(() => fetch('/sessions').then((res) => res.json()))) as {
        sessions: Listed[];
      }
    ).sessions;

  /** The session id in the page's cookie: its random part, which nothing may show. */
  async function sessionIdOf(page: Page): Promise<string> {
    const [cookie] = await page.context().cookies();
    const signed = decodeURIComponent(cookie.value);
    expect(signed).toMatch(/^s:[\w-]{32}/);
    return signed.slice(2, 34);
  }

  /** "tomorrow at 14:42", worded in the readers' zone by this process's Intl, not the page's. */
  const endsWording = (iso: string) =>
    `tomorrow at ${new Intl.DateTimeFormat('en-GB', {
      timeZone: ZONE,
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).format(Date.parse(iso))}`;

  it('names each device, shows IPv4 and relative times, puts the current device first, and shows no session id', async () => {
    const pages: Page[] = [];
    for (const { userAgent } of DEVICES) pages.push(await loggedInDevice(userAgent));

    for (const [i, page] of pages.entries()) {
      await page.reload();
      const own = DEVICES[i];
      const listed = await listMine(page);

      // listMine: the parsed device beside the raw user agent, the address as IPv4, oldest first.
      expect(listed.map((s) => [s.userAgent, s.device, s.ip])).toEqual(
        DEVICES.map((d) => [d.userAgent, d.device, '127.0.0.1']),
      );
      expect(listed.map((s) => s.current)).toEqual(DEVICES.map((d) => d === own));

      // The page: this device first and marked, then the others in the listing's order.
      const rows = page.locator('#sessions li');
      expect(await rows.count()).toBe(DEVICES.length);
      expect(await rows.first().getAttribute('class')).toBe('session current');
      expect(await rows.first().locator('.tag').textContent()).toBe('this device');
      expect(await page.locator('#sessions li.current').count()).toBe(1);
      const others = DEVICES.filter((d) => d !== own);
      expect(await page.locator('#sessions li .device').allTextContents()).toEqual(
        [own, ...others].map((d) => d.label),
      );
      expect(await page.textContent('#this-device')).toBe(own.label);
      const current = listed.find((s) => s.current)!;
      expect((await rows.first().locator('.summary').textContent())?.trim()).toBe(
        `${own.label} · 127.0.0.1 · signed in just now · last seen just now · ends ${endsWording(current.absoluteExpiresAt)}`,
      );
      expect(await page.textContent('#ends-at')).toBe(endsWording(current.absoluteExpiresAt));

      // No part of the session id anywhere in the HTML (every 8-character stretch of it).
      const html = await page.content();
      const sid = await sessionIdOf(page);
      for (let at = 0; at + 8 <= sid.length; at++) {
        expect(html).not.toContain(sid.slice(at, at + 8));
      }
      expect(await page.locator('#session-id').count()).toBe(0);
    }
    await pages[0].screenshot({ path: `${SCREENSHOTS}/20-devices-mac.png`, fullPage: true });
    await pages[1].screenshot({ path: `${SCREENSHOTS}/21-devices-iphone.png`, fullPage: true });
    // Five browser contexts logged in and read back: beside the rest of the suite, a loaded
    // machine takes longer than the default 30 s (not a performance figure).
  }, 90_000);
});
