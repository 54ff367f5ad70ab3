/**
 * (a) The baseline: a bare Express app with express-session + connect-redis, one tenant, on an
 * ioredis client, configured like the module (same secret, idle TTL, rolling cookie,
 * no resave, no uninitialized sessions).
 */
import express, { type Request, type Response } from 'express';
import { Redis } from 'ioredis';
import { announceReady, benchServerEnv } from './bench-app.js';
import { connectRedisSession } from './express-session-setup.js';

const { port, redisUrl } = benchServerEnv();
const redis = new Redis(redisUrl);

const app = express();
app.disable('x-powered-by');
app.use(express.json());
app.use(connectRedisSession(redis));

app.post('/login', (req: Request, res: Response, next) => {
  const user = String((req.body as { user?: unknown } | undefined)?.user ?? '');
  req.session.regenerate((err) => {
    if (err) return next(err);
    req.session.user = user;
    req.session.save((saveErr) => (saveErr ? next(saveErr) : res.status(201).json({ user })));
  });
});

app.get('/me', (req: Request, res: Response) => {
  if (!req.session.user) {
    res.status(401).json({ message: 'Login required' });
    return;
  }
  res.json({ user: req.session.user, tenant: 'default', count: req.session.count ?? 0 });
});

app.post('/increment', (req: Request, res: Response) => {
  if (!req.session.user) {
    res.status(401).json({ message: 'Login required' });
    return;
  }
  req.session.count = (req.session.count ?? 0) + 1;
  res.status(201).json({ count: req.session.count });
});

const server = app.listen(port, '127.0.0.1', () =>
  announceReady(async () => {
    await new Promise((resolve) => server.close(resolve));
    await redis.quit();
  }),
);
