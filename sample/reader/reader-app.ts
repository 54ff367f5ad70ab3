import { RedisStore } from 'connect-redis';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import session from 'express-session';
import { Redis } from 'ioredis';
import { COOKIE_NAME, sessionKeyPrefix, type SampleConfig } from '../sample-config.js';
import '../session-data.js';

export interface ReaderApp {
  app: express.Express;
  /** Closes the Redis connection. */
  close(): Promise<void>;
}

/**
 * Another service reading the Nest app's sessions, with no Nest and no nestjs-tenant-session:
 * plain Express, express-session and connect-redis. It only needs what the Nest app was started
 * with: the secret, the cookie name and the key prefix, one RedisStore per tenant.
 */
export function createReaderApp(config: SampleConfig): ReaderApp {
  if (!config.redisUrl) {
    throw new Error('The reader needs REDIS_URL: it reads the sessions the Nest app keeps there');
  }
  const redis = new Redis(config.redisUrl);
  const sessionByTenant = new Map<string, RequestHandler>();
  for (const tenant of new Set(Object.values(config.tenantHosts))) {
    const store = new RedisStore({
      client: redis,
      prefix: sessionKeyPrefix(tenant, config.appName),
      // Never extend a TTL from here. The Nest app renews each session's per-user index lease
      // whenever it extends the session's TTL; a reader that extended TTLs on its own could
      // keep a session alive past its lease, out of reach of "sign out everywhere".
      disableTouch: true,
    });
    sessionByTenant.set(
      tenant,
      session({
        store,
        secret: config.sessionSecret,
        name: COOKIE_NAME,
        resave: false,
        saveUninitialized: false,
        rolling: false,
        cookie: { httpOnly: true, sameSite: 'lax', secure: 'auto' },
      }),
    );
  }

  const app = express();
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    const tenant = config.tenantHosts[req.hostname.toLowerCase()];
    const withSession = tenant === undefined ? undefined : sessionByTenant.get(tenant);
    if (!withSession) {
      res.status(404).json({
        statusCode: 404,
        error: 'Unknown Tenant',
        code: 'UNKNOWN_TENANT',
        message: 'Unknown tenant',
      });
      return;
    }
    res.locals.tenant = tenant;
    withSession(req, res, next);
  });

  /** Who the Nest app logged in on this browser: read straight from Redis, never written. */
  app.get('/whoami', (req, res) => {
    const { user, count } = req.session;
    if (!user) {
      res.status(401).json({ statusCode: 401, message: 'Login required' });
      return;
    }
    res.json({ service: 'reader', tenant: res.locals.tenant, user, count: count ?? 0 });
  });

  /**
   * Logging out here deletes the session key; the Nest app sees the session gone on its next
   * request (and drops it from the user's index when it next lists them).
   */
  app.post('/logout', (req, res, next) => {
    req.session.destroy((err) => {
      if (err) return next(err);
      res.clearCookie(COOKIE_NAME, { path: '/' }).json({ loggedOut: true });
    });
  });

  const onError: ErrorRequestHandler = (err: Error, _req, res, _next) => {
    res.status(500).json({ statusCode: 500, message: err.message });
  };
  app.use(onError);

  return { app, close: async () => void (await redis.quit()) };
}
