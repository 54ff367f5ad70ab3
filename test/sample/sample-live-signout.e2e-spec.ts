import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, newDevice } from '../support/browser.js';
import { startSample, type RunningSample } from '../support/sample.js';
import type { SampleEnv } from '../../sample/sample-config.js';

const SCREENSHOTS = 'test-artifacts/browser';
/** Generous: the machine is shared and other suites may run beside this one. */
const LIVE_WAIT_MS = 15_000;

/**
 * The sample page's live sign-out in Debian's chromium: two browser profiles (two devices)
 * logged in as the same user, each page holding a socket.io connection to the app. Screenshots
 * in test-artifacts/browser/.
 */
describe('sample page: live sign-out in a browser', () => {
  let sample: RunningSample | undefined;
  let browser: Browser;
  let baseUrl: string;
  const contexts: BrowserContext[] = [];
  /** What the pages reported that a strict CSP would have blocked, or failed with. */
  const problems: string[] = [];

  beforeAll(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    browser = await launchChromium();
  });
  afterAll(() => browser?.close());
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
    await sample?.close();
    sample = undefined;
    expect(problems.splice(0)).toEqual([]);
  });

  async function start(env: SampleEnv = {}): Promise<void> {
    sample = await startSample(env, { listen: true });
    const { port } = sample.app.getHttpServer().address() as AddressInfo;
    baseUrl = `http://acme.localhost:${port}/`;
  }

  /** A browser profile of its own (cookies included), like a second device. */
  async function device(name: string): Promise<BrowserContext> {
    const context = await newDevice(browser, name, LIVE_WAIT_MS);
    contexts.push(context);
    return context;
  }

  async function tab(context: BrowserContext): Promise<Page> {
    const page = await context.newPage();
    page.on('console', (message) => {
      if (/Content.Security.Policy|Refused to/i.test(message.text())) problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(baseUrl);
    return page;
  }

  /** The page's script reloads after each action; wait for that reload. */
  async function andReload(page: Page, action: () => Promise<void>): Promise<void> {
    const reloaded = page.waitForNavigation({ waitUntil: 'load' });
    await action();
    await reloaded;
  }

  async function logIn(page: Page, username: string): Promise<void> {
    await page.fill('#login-form input[name=username]', username);
    await page.fill('#login-form input[name=password]', `${username}-pass`);
    await andReload(page, () => page.click('#login-form button[type=submit]'));
    await page.waitForSelector(`#live:has-text("connected as ${username}")`);
  }

  /** Marks the document: a reload (or any navigation) would drop the mark. */
  const markDocument = (page: Page) =>
    page.evaluate(() => ((globalThis as unknown as { sameDocument: boolean }).sameDocument = true));
  const stillSameDocument = (page: Page) =>
    page.evaluate(
      () => (globalThis as unknown as { sameDocument?: boolean }).sameDocument === true,
    );

  const shot = (page: Page, name: string) =>
    page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true });

  it('"Sign out other devices" on the laptop shows "signed out" on the phone at once, without a reload', async () => {
    await start();
    const laptop = await tab(await device('Laptop'));
    await logIn(laptop, 'alice');
    const phone = await tab(await device('Phone'));
    await logIn(phone, 'alice');
    await shot(phone, '10-phone-live-connected');
    await markDocument(phone);

    await laptop.reload();
    await laptop.waitForSelector('#live:has-text("connected as alice")');
    await andReload(laptop, () => laptop.click('#revoke-others'));

    await phone.waitForSelector('#signed-out:not([hidden])');
    expect(await phone.textContent('#signed-out')).toContain('Signed out.');
    expect(await phone.textContent('#signed-out')).toContain('another device');
    expect(await phone.textContent('#live')).toBe('signed out');
    expect(await phone.textContent('#user')).toBe('nobody');
    expect(await phone.isDisabled('#increment')).toBe(true);
    expect(await stillSameDocument(phone)).toBe(true);
    await shot(phone, '11-phone-signed-out-live');

    // The laptop kept its session and its live connection.
    await laptop.waitForSelector('#live:has-text("connected as alice")');
    expect(await laptop.isVisible('#signed-out')).toBe(false);
    await shot(laptop, '12-laptop-still-signed-in');

    // What the phone showed is what the server says: its next page load is logged out.
    await phone.reload();
    expect(await phone.isVisible('#login-form')).toBe(true);
  });

  it('logging out in one tab shows "signed out" in the other tab of the same browser', async () => {
    await start();
    const desktop = await device('Desktop');
    const first = await tab(desktop);
    await logIn(first, 'bob');
    const second = await tab(desktop);
    await second.waitForSelector('#live:has-text("connected as bob")');
    await markDocument(second);

    await andReload(first, () => first.click('#logout'));

    await second.waitForSelector('#signed-out:not([hidden])');
    expect(await second.textContent('#signed-out')).toContain('This session was logged out.');
    expect(await stillSameDocument(second)).toBe(true);
    await shot(second, '13-other-tab-logged-out-live');
  });

  it('an idle page shows "signed out" when its session expires, though its socket stayed connected', async () => {
    await start({ SESSION_IDLE_TTL: '3' });
    const page = await tab(await device('Desktop'));
    await logIn(page, 'alice');
    await markDocument(page);

    await page.waitForSelector('#signed-out:not([hidden])');
    expect(await page.textContent('#signed-out')).toContain('This session expired.');
    expect(await stillSameDocument(page)).toBe(true);
    await shot(page, '14-idle-page-expired-live');
  });
});
