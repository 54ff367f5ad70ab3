import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import request from 'supertest';
import { launchChromium, newDevice } from '../support/browser.js';
import { startSample, type RunningSample } from '../support/sample.js';

/**
 * Cross-site request forgery in Chromium against the sample, whose tenants live on subdomains
 * of one site: `acme.app.localhost` and `evil.app.localhost` are same-site (the registrable
 * domain is app.localhost), so acme's SameSite=Lax cookie rides along on requests from evil's
 * pages; `evil.other.localhost` is cross-site. An admin logged in to acme opens an attacker's
 * page that POSTs "revoke bob" to acme: bob must stay signed in. The admin's own page can.
 * (`*.localhost` is a trustworthy origin, so Chromium sends Sec-Fetch-* to it.)
 */
describe('CSRF in a browser', () => {
  let sample: RunningSample;
  let attacker: Server;
  let browser: Browser;
  let context: BrowserContext;
  let acme: string;
  let attackerPort: number;
  let revokeBob: string;
  /** The headers of each POST acme received to revoke bob, as they arrived. */
  const revokeRequests: IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    sample = await startSample({ TENANT_HOSTS: 'acme.app.localhost=acme' }, { listen: true });
    const { port } = sample.app.getHttpServer().address() as AddressInfo;
    acme = `http://acme.app.localhost:${port}`;
    revokeBob = `${acme}/admin/users/bob/revoke`;
    sample.app.getHttpServer().prependListener('request', (req: IncomingMessage) => {
      if (req.method === 'POST' && req.url === '/admin/users/bob/revoke') {
        revokeRequests.push(req.headers);
      }
    });
    attacker = createServer((req, res) => {
      res.setHeader('Content-Type', 'text/html');
      res.end(req.url === '/form' ? FORM_PAGE(revokeBob) : FETCH_PAGE(revokeBob));
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    attackerPort = (attacker.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => attacker?.close(resolve));
    await sample?.close();
  });
  beforeEach(async () => {
    context = await newDevice(browser, 'Admin', 15_000);
  });
  afterEach(() => context.close());

  /** bob, logged in elsewhere (an API client); answers whether bob is still signed in. */
  async function bobSignedIn(): Promise<() => Promise<number>> {
    const login = await request(sample.http)
      .post('/auth/login')
      .set('Host', new URL(acme).host)
      .send({ username: 'bob', password: 'bob-pass' });
    expect(login.status).toBe(200);
    const cookie = (login.headers['set-cookie'] as unknown as string[])[0].split(';')[0];
    const status = async () =>
      (await request(sample.http).get('/me').set('Host', new URL(acme).host).set('Cookie', cookie))
        .status;
    expect(await status()).toBe(200);
    return status;
  }

  /** The admin logs in on acme's page, in this browser context. */
  async function adminPage(): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${acme}/`);
    await page.fill('#login-form input[name=username]', 'admin');
    await page.fill('#login-form input[name=password]', 'admin-pass');
    const reloaded = page.waitForNavigation({ waitUntil: 'load' });
    await page.click('#login-form button[type=submit]');
    await reloaded;
    expect(await page.textContent('#user')).toMatch(/^admin\b/);
    return page;
  }

  /** Opens the attacker's page at `origin` in the admin's browser; the POST acme received. */
  async function attack(origin: string, path: '/' | '/form'): Promise<IncomingHttpHeaders> {
    const page = await context.newPage();
    revokeRequests.length = 0;
    const answered = page.waitForResponse((res) => res.url() === revokeBob);
    await page.goto(`${origin}${path}`);
    expect((await answered).status()).toBe(403);
    if (path === '/form') {
      // The form navigated to acme's answer: the JSON refusal, with its code.
      await page.waitForURL(revokeBob);
      expect(await page.textContent('body')).toContain('"code":"CSRF_REJECTED"');
    }
    expect(revokeRequests).toHaveLength(1);
    return revokeRequests[0];
  }

  it.each([
    ['a page on a sibling subdomain (same-site)', 'evil.app.localhost', 'same-site'],
    ['a cross-site page', 'evil.other.localhost', 'cross-site'],
  ])(
    "%s cannot revoke bob through the admin's browser, by fetch or by form",
    async (_, host, site) => {
      const bobStatus = await bobSignedIn();
      await adminPage();
      const origin = `http://${host}:${attackerPort}`;

      for (const path of ['/', '/form'] as const) {
        const headers = await attack(origin, path);
        expect(headers['sec-fetch-site']).toBe(site);
        // Same-site, the admin's session cookie went along: only the CSRF check stopped it.
        if (site === 'same-site') expect(headers.cookie).toMatch(/(^|; )sid=/);
      }
      expect(await bobStatus()).toBe(200);
    },
  );

  it("the admin's own page revokes bob", async () => {
    const bobStatus = await bobSignedIn();
    const page = await adminPage();
    const answer = await page.evaluate(async () => {
      const res = await fetch('/admin/users/bob/revoke', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{}',
      });
      return { status: res.status, body: (await res.json()) as { revoked: number } };
    });
    expect(answer.status).toBe(200);
    expect(answer.body.revoked).toBeGreaterThanOrEqual(1);
    expect(await bobStatus()).toBe(401);
  });
});

/** A bodiless POST the page cannot read the answer of: it needs none to do harm. */
const FETCH_PAGE = (target: string) => `<!doctype html><title>cute cats</title><script>
fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', credentials: 'include' })
  .catch(() => undefined);
</script>`;

/** The oldest forgery: a form posted as the page loads. */
const FORM_PAGE = (target: string) => `<!doctype html><title>cute dogs</title>
<form method="POST" action=${JSON.stringify(target)}></form>
<script>document.forms[0].submit();</script>`;
