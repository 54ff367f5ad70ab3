import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, newDevice } from '../support/browser.js';
import { startSample, type RunningSample } from '../support/sample.js';
import { RECENT_LOGIN_MAX_AGE_S, untilLoginIsOld } from '../support/test-app.js';

const SCREENSHOTS = 'test-artifacts/browser';

/**
 * The sample page in Debian's chromium (no browser download): what a newcomer sees after
 * `npm run sample`. Every step leaves a screenshot in test-artifacts/browser/.
 */
describe('sample page in a browser', () => {
  let sample: RunningSample;
  let browser: Browser;
  let baseUrl: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    browser = await launchChromium();
  });
  afterAll(() => browser?.close());
  beforeEach(async () => {
    sample = await startSample({}, { listen: true });
    const { port } = sample.app.getHttpServer().address() as AddressInfo;
    baseUrl = `http://acme.localhost:${port}/`;
  });
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
    await sample.close();
  });

  /** A browser profile of its own (cookies included), like a second device. */
  async function device(name: string): Promise<Page> {
    const context = await newDevice(browser, name, 10_000);
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(baseUrl);
    return page;
  }

  /** The page's script reloads after each action; wait for that reload. */
  async function andReload(page: Page, action: () => Promise<void>): Promise<void> {
    const reloaded = page.waitForNavigation({ waitUntil: 'load' });
    await action();
    await reloaded;
  }

  async function logIn(page: Page, username: string, password: string): Promise<void> {
    await page.fill('#login-form input[name=username]', username);
    await page.fill('#login-form input[name=password]', password);
    await andReload(page, () => page.click('#login-form button[type=submit]'));
  }

  const shot = (page: Page, name: string) =>
    page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true });

  it('"sign out other devices" on one device logs the other out on its next page load', async () => {
    const laptop = await device('Laptop');
    expect(await laptop.textContent('#tenant')).toBe('acme');
    expect(await laptop.isVisible('#login-form')).toBe(true);
    await shot(laptop, '01-laptop-anonymous');

    await logIn(laptop, 'alice', 'alice-pass');
    expect(await laptop.textContent('#user')).toBe('alice');
    await shot(laptop, '02-laptop-logged-in');

    const phone = await device('Phone');
    await logIn(phone, 'alice', 'alice-pass');
    expect(await phone.textContent('#user')).toBe('alice');
    await shot(phone, '03-phone-logged-in');

    await laptop.reload();
    expect(await laptop.locator('#sessions li').count()).toBe(2);
    expect(await laptop.textContent('#sessions li.current .device')).toContain('Laptop');
    await shot(laptop, '04-laptop-sees-two-sessions');

    await andReload(laptop, () => laptop.click('#revoke-others'));
    expect(await laptop.locator('#sessions li').count()).toBe(1);
    expect(await laptop.textContent('#user')).toBe('alice');
    await shot(laptop, '05-laptop-signed-out-other-devices');

    await phone.reload();
    expect(await phone.isVisible('#login-form')).toBe(true);
    expect(await phone.textContent('#user')).toBe('nobody');
    await shot(phone, '06-phone-logged-out-on-next-load');
  });

  it('"Sign out" next to a session ends that session only', async () => {
    const laptop = await device('Laptop');
    await logIn(laptop, 'bob', 'bob-pass');
    const phone = await device('Phone');
    await logIn(phone, 'bob', 'bob-pass');
    await laptop.reload();

    await andReload(laptop, () => laptop.click('#sessions li:not(.current) button'));
    await shot(laptop, '07-laptop-signed-out-phone');

    expect(await laptop.locator('#sessions li').count()).toBe(1);
    await phone.reload();
    expect(await phone.isVisible('#login-form')).toBe(true);
  });

  it('counts, shows when the session expires, and logs out', async () => {
    const page = await device('Desktop');
    await logIn(page, 'alice', 'alice-pass');
    expect(await page.textContent('#count')).toBe('0');

    await andReload(page, () => page.click('#increment'));
    await andReload(page, () => page.click('#increment'));
    expect(await page.textContent('#count')).toBe('2');
    // Idle TTL 3600 s: the countdown starts just under an hour.
    expect(await page.textContent('#expires-in')).toMatch(/^59m \d{1,2}s$/);
    // A user agent the parser does not know is shown as it came.
    expect(await page.textContent('#this-device')).toBe('Mozilla/5.0 (Desktop) SampleTest');
    await shot(page, '08-counter-and-expiry');

    await andReload(page, () => page.click('#logout'));
    expect(await page.isVisible('#login-form')).toBe(true);
    expect(await page.context().cookies()).toEqual([]);
  });

  it('asks an old login for the password before "sign out other devices", then does it', async () => {
    await sample.close();
    sample = await startSample(
      { RECENT_LOGIN_MAX_AGE: String(RECENT_LOGIN_MAX_AGE_S) },
      { listen: true },
    );
    const { port } = sample.app.getHttpServer().address() as AddressInfo;
    baseUrl = `http://acme.localhost:${port}/`;
    const laptop = await device('Laptop');
    await logIn(laptop, 'alice', 'alice-pass');
    const phone = await device('Phone');
    await logIn(phone, 'alice', 'alice-pass');
    await laptop.reload();
    await untilLoginIsOld();

    await laptop.click('#revoke-others');
    await laptop.waitForSelector('#reauth:not([hidden])');
    expect(await laptop.textContent('#status')).toContain('confirm your password');
    expect(await laptop.locator('#sessions li').count()).toBe(2);
    await shot(laptop, '10-laptop-asked-to-confirm');

    await laptop.fill('#reauth-form input[name=password]', 'wrong-password');
    await laptop.click('#reauth-form button[type=submit]');
    await laptop.waitForSelector('#status:has-text("Password is wrong")');

    await laptop.fill('#reauth-form input[name=password]', 'alice-pass');
    await andReload(laptop, () => laptop.click('#reauth-form button[type=submit]'));
    expect(await laptop.locator('#sessions li').count()).toBe(1);
    expect(await laptop.textContent('#user')).toBe('alice');
    await shot(laptop, '11-laptop-confirmed-and-signed-out-others');
    await phone.reload();
    expect(await phone.isVisible('#login-form')).toBe(true);
  });

  it('shows a wrong password on the page without reloading', async () => {
    const page = await device('Desktop');
    await page.fill('#login-form input[name=username]', 'alice');
    await page.fill('#login-form input[name=password]', 'wrong-password');
    await page.click('#login-form button[type=submit]');

    await page.waitForSelector('#status:has-text("Wrong username or password")');
    await shot(page, '09-wrong-password');
    expect(await page.isVisible('#login-form')).toBe(true);
  });
});
