import { chromium, type Browser, type BrowserContext } from 'playwright-core';

/** Debian's chromium (no browser download), headless, kept off the network beyond the app. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    timeout: 20_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // *.localhost is loopback anyway; this keeps it on the IPv4 address the app listens on.
      '--host-resolver-rules=MAP *.localhost 127.0.0.1',
    ],
  });
}

/** What a device may set besides its name: a real user agent (`''` sends an empty one), its zone. */
export interface DeviceOptions {
  userAgent?: string;
  timezoneId?: string;
}

/** A browser profile of its own (cookies included), like a second device. */
export async function newDevice(
  browser: Browser,
  name: string,
  timeoutMs: number,
  { userAgent = `Mozilla/5.0 (${name}) SampleTest`, timezoneId }: DeviceOptions = {},
): Promise<BrowserContext> {
  const context = await browser.newContext({
    // Chromium replaces an empty userAgent with its own; an empty header is sent as one.
    ...(userAgent === '' ? { extraHTTPHeaders: { 'User-Agent': '' } } : { userAgent }),
    ...(timezoneId ? { timezoneId } : {}),
    viewport: { width: 900, height: 900 },
  });
  context.setDefaultTimeout(timeoutMs);
  return context;
}
