import { Controller, Get, UseGuards } from '@nestjs/common';
import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import type { Cluster, Redis } from 'ioredis';
import { SessionAuthGuard, SessionUserId } from 'nestjs-tenant-session';

/**
 * Sessions as the app before a switch-over left them in Redis (and a route to check them on the
 * module's app after it): a real express-session + connect-redis app (passport's `passport.user` in the session, connect-redis's `sess:` prefix,
 * express-session's `connect.sid` cookie), and bulk writes of the JSON it stores, for counts a
 * test could not log in one by one.
 */

declare module 'express-session' {
  interface SessionData {
    legacyCart?: number;
  }
}

/** connect-redis's default key prefix. */
export const LEGACY_PREFIX = 'sess:';

/** The app before the switch: what `passport.session()` + a login route leave in the session. */
export function legacyApp(
  client: ConstructorParameters<typeof RedisStore>[0]['client'],
  secret: string[],
) {
  const app = express();
  app.use(
    session({
      store: new RedisStore({ client }),
      secret,
      resave: false,
      saveUninitialized: false,
    }),
  );
  app.post('/login/:user', (req, res, next) => {
    // passport's req.login: a new session, then the serialized user.
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.passport = { user: req.params.user };
      res.json({ user: req.params.user });
    });
  });
  app.post('/cart', (req, res) => {
    req.session.legacyCart = (req.session.legacyCart ?? 0) + 1;
    res.json({ cart: req.session.legacyCart });
  });
  app.get('/whoami', (req, res) => {
    res.json({ user: (req.session.passport as { user?: string } | undefined)?.user ?? null });
  });
  return app;
}

/** The module's app after the switch answers the legacy app's `/whoami`, for logged-in users. */
@Controller()
export class WhoAmIController {
  @Get('whoami')
  @UseGuards(SessionAuthGuard)
  whoami(@SessionUserId() user: string) {
    return { user };
  }
}

/** JSON exactly as connect-redis stores a passport login made by express-session. */
export const legacyJson = (user?: string) =>
  JSON.stringify({
    cookie: { originalMaxAge: null, expires: null, httpOnly: true, path: '/' },
    ...(user === undefined ? { cart: 1 } : { passport: { user } }),
  });

/** A session id of express-session's length (uid-safe: 24 random bytes, base64url). */
const legacySid = (n: number) => `legacy${String(n).padStart(26, '0')}`;

/**
 * Writes `perUser` sessions for each of users `u0`…, plus `anonymous` ones, as connect-redis
 * does (SET with EX, its one-day default when the cookie has no expiry).
 */
export async function writeLegacySessions(
  client: Redis | Cluster,
  users: number,
  perUser: number,
  anonymous: number,
): Promise<void> {
  const writes: Promise<unknown>[] = [];
  let n = 0;
  for (let u = 0; u < users; u++) {
    for (let i = 0; i < perUser; i++) {
      writes.push(client.set(LEGACY_PREFIX + legacySid(n++), legacyJson(`u${u}`), 'EX', 86400));
    }
  }
  for (let i = 0; i < anonymous; i++) {
    writes.push(client.set(LEGACY_PREFIX + legacySid(n++), legacyJson(), 'EX', 86400));
  }
  await Promise.all(writes);
}
