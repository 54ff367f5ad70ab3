import type { Response } from 'express';

/**
 * Keeps answers that carry or depend on a session out of caches: a shared cache (a CDN, a
 * proxy) would serve one user's page, or session cookie, to the next visitor, and a browser would
 * show an account page from its cache after the logout. The app's own Cache-Control stands on an
 * answer that sets no session cookie (`private, max-age=60` is its choice to make); a cached
 * Set-Cookie hands out the session itself, so that answer is `no-store` whatever the app said.
 */
export function preventCaching(res: Response, setsSessionCookie: boolean): void {
  if (setsSessionCookie || !res.hasHeader('Cache-Control')) {
    res.setHeader('Cache-Control', 'no-store');
  }
}
