import { All, Controller, Param, Req, Res, type LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { RedisStore } from 'connect-redis';
import express, { type Request, type Response } from 'express';
import session, { type Store } from 'express-session';
import { Redis } from 'ioredis';
import { TenantSessionModule, TenantSessionRegistry } from 'nestjs-tenant-session';
import { startTestingApp, type RunningTestingApp } from '../support/testing-app.js';
import { TEST_SECRET } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';

/**
 * The module next to the real express-session, case by case: an Express app with
 * express-session + connect-redis and a Nest app with the module, on the same redis-server, run
 * the same route handlers for the same requests, and answer with the same Set-Cookie (present or
 * not, same attributes) and the same stored state (the session's fields, cookie and TTL). Where
 * the module differs on purpose (docs/express-session-compatibility.md), the test asserts the
 * difference, so it cannot drift silently either way.
 */

const IDLE_TTL = 120;
const HOST = 'acme.test';

type Route = (req: Request, res: Response) => unknown;

/**
 * The handlers both apps run on `req.session`, by name (`GET /parity/<name>`); `changeElsewhere`
 * is another writer changing the stored session. Each answer names the session id it ended with
 * (`x-sid`), so a session stored without a cookie is found too.
 */
function routes(changeElsewhere: (sid: string) => Promise<void>): Record<string, Route> {
  const reply = (req: Request, res: Response, body: object = {}) =>
    void res.set('x-sid', req.sessionID).json(body);
  return {
    nothing: (req, res) => reply(req, res),
    write: (req, res) => {
      req.session.count = (req.session.count ?? 0) + 1;
      reply(req, res, { count: req.session.count });
    },
    save: (req, res) => req.session.save(() => reply(req, res)),
    reload: (req, res) => req.session.reload(() => reply(req, res, { count: req.session.count })),
    'change-and-reload': async (req, res) => {
      await changeElsewhere(req.sessionID);
      req.session.reload(() => reply(req, res, { count: req.session.count }));
    },
    regenerate: (req, res) =>
      req.session.regenerate(() => {
        req.session.count = 1;
        reply(req, res);
      }),
    destroy: (req, res) => req.session.destroy(() => reply(req, res)),
    preset: (req, res) => reply(req, res, { preset: (req.session as { preset?: boolean }).preset }),
  };
}

/** Sets `count` to 42 in a stored session, straight in Redis (another instance, say). */
function changer(redis: Redis, key: (sid: string) => string) {
  return async (sid: string) => {
    const data = JSON.parse((await redis.get(key(sid)))!) as Record<string, unknown>;
    await redis.set(key(sid), JSON.stringify({ ...data, count: 42 }), 'KEEPTTL');
  };
}

/** An earlier middleware that set `req.session` itself. */
function presetSession(req: Request, _res: Response, next: () => void): void {
  if (req.path.endsWith('/preset')) (req as { session?: unknown }).session = { preset: true };
  next();
}

/** The Nest side's controller, running the same handlers. */
function parityController(handlers: Record<string, Route>) {
  @Controller('parity')
  class ParityController {
    @All(':route')
    async run(@Param('route') route: string, @Req() req: Request, @Res() res: Response) {
      await handlers[route]!(req, res);
    }
  }
  return ParityController;
}

interface Settings {
  rolling: boolean;
  saveUninitialized: boolean;
  cookie?: session.CookieOptions;
}

/** One app of the pair: where it is, and where it keeps a session. */
interface Side {
  http: Parameters<typeof Visitor.prototype.on>[0];
  key(sid: string): string;
  /** The store express-session calls (the tenant's, on the module's side). */
  store(): Promise<Store>;
  close(): Promise<void>;
}

let apps = 0;

function expressSessionApp(client: Redis, settings: Settings): Side {
  const prefix = `sessions:acme:parity-es-${++apps}:`;
  const store = new RedisStore({ client, prefix });
  const app = express();
  app.use(presetSession);
  app.use(
    session({
      store,
      secret: TEST_SECRET,
      name: 'sid',
      resave: false,
      rolling: settings.rolling,
      saveUninitialized: settings.saveUninitialized,
      // secure: false is what the module's default, secure: 'auto', comes to over HTTP.
      cookie: {
        httpOnly: true,
        sameSite: 'lax',
        secure: false,
        ...settings.cookie,
        maxAge: IDLE_TTL * 1000,
      },
    }),
  );
  const handlers = routes(changer(client, (sid) => prefix + sid));
  app.all('/parity/:route', (req, res) => handlers[req.params.route as string]!(req, res));
  return {
    http: app,
    key: (sid) => prefix + sid,
    store: async () => store,
    close: async () => undefined,
  };
}

/** What the module's side logged as warnings. */
const warnings: string[] = [];
const logger: LoggerService = {
  log: () => undefined,
  error: () => undefined,
  warn: (message: string) => void warnings.push(message),
};

async function moduleApp(client: Redis, settings: Settings): Promise<Side> {
  const appName = `parity-m-${++apps}`;
  const key = (sid: string) => `sessions:acme:${appName}:${sid}`;
  const moduleRef = await Test.createTestingModule({
    imports: [
      TenantSessionModule.forRoot({
        tenant: { byHost: { [HOST]: 'acme' } },
        redis: process.env.TEST_REDIS_URL,
        secret: TEST_SECRET,
        appName,
        idleTtl: IDLE_TTL,
        ...settings,
      }),
    ],
    controllers: [parityController(routes(changer(client, key)))],
  }).compile();
  const running: RunningTestingApp = await startTestingApp(moduleRef, {
    logger,
    beforeInit: (app) => app.use(presetSession),
  });
  return {
    http: running.http,
    key,
    store: () => running.app.get(TenantSessionRegistry).store('acme') as Promise<Store>,
    close: running.close,
  };
}

/** What a response did: its session cookie (attributes, values left out) and what is stored. */
interface Outcome {
  body: unknown;
  setCookie: string[] | null;
  newId: boolean;
  stored: { fields: Record<string, unknown>; cookie: Record<string, unknown> } | null;
  ttlNearIdle: boolean | null;
}

describe('parity with express-session + connect-redis', () => {
  let redis: Redis;
  let pair: [Side, Side] = [] as never;

  beforeAll(() => {
    redis = new Redis(process.env.TEST_REDIS_URL!);
  });
  afterAll(() => redis.quit());
  afterEach(() => Promise.all(pair.map((side) => side.close())));

  async function start(settings: Settings): Promise<void> {
    pair = [await moduleApp(redis, settings), expressSessionApp(redis, settings)];
  }

  /** A visitor on each app, past the same steps. */
  async function visitors(...steps: string[]): Promise<[Visitor, Visitor]> {
    const both = pair.map((side) => new Visitor(side.http, HOST)) as [Visitor, Visitor];
    for (const step of steps) for (const visitor of both) await visitor.get(`/parity/${step}`);
    return both;
  }

  async function outcome(side: Side, visitor: Visitor, route: string): Promise<Outcome> {
    const before = visitor.sessionId();
    const res = await visitor.get(`/parity/${route}`);
    const line = ([] as string[])
      .concat(res.headers['set-cookie'] ?? [])
      .find((cookie) => cookie.startsWith('sid='));
    const sid = res.headers['x-sid'] as string | undefined;
    const raw = sid === undefined ? null : await redis.get(side.key(sid));
    const ttl = sid === undefined ? -2 : await redis.ttl(side.key(sid));
    const data = raw === null ? null : (JSON.parse(raw) as Record<string, unknown>);
    const { cookie, ...fields } = data ?? {};
    return {
      body: res.body,
      setCookie: line ? attributesOf(line) : null,
      newId: before !== undefined && sid !== before,
      stored: data && { fields, cookie: storedCookie(cookie as Record<string, unknown>) },
      ttlNearIdle: raw === null ? null : ttl > IDLE_TTL - 5 && ttl <= IDLE_TTL,
    };
  }

  /** The same request by each app's visitor: [module, express-session]. */
  async function both(route: string, [m, e]: [Visitor, Visitor]): Promise<[Outcome, Outcome]> {
    return [await outcome(pair[0], m, route), await outcome(pair[1], e, route)];
  }

  describe.each([
    { rolling: true, saveUninitialized: false },
    { rolling: false, saveUninitialized: false },
    { rolling: true, saveUninitialized: true },
    { rolling: false, saveUninitialized: true },
  ])('rolling: $rolling, saveUninitialized: $saveUninitialized', (settings) => {
    beforeEach(() => start(settings));

    it.each([
      ['a new visitor whose session nobody writes', [], 'nothing'],
      ['a new visitor whose session is written', [], 'write'],
      ['a returning visitor, session unchanged', ['write'], 'nothing'],
      ['a returning visitor, session changed', ['write'], 'write'],
      ['a regenerate of a stored session', ['write'], 'regenerate'],
      ['a regenerate of a new session', [], 'regenerate'],
      ['a destroy of a stored session', ['write'], 'destroy'],
      ['an explicit save of a changed session', ['write', 'write'], 'write'],
      ['a reload with nothing changed elsewhere', ['write'], 'reload'],
    ])('%s: same Set-Cookie, same stored session', async (_, steps, route) => {
      const [module, expressSession] = await both(route, await visitors(...(steps as string[])));
      expect(module).toEqual(expressSession);
    });

    it('an explicit save() of a session stored before and unchanged: stored alike', async () => {
      const [module, expressSession] = await both('save', await visitors('write'));
      expect({ ...module, setCookie: null }).toEqual({ ...expressSession, setCookie: null });
      // Ours: the save restarted the stored TTL, and the cookie's expiry follows it even with
      // rolling: false (express-session sends none unless rolling).
      expect(module.setCookie).toEqual(attributes);
      expect(expressSession.setCookie).toEqual(settings.rolling ? attributes : null);
    });

    it('an explicit save() of a new, unwritten session: stored alike', async () => {
      const [module, expressSession] = await both('save', await visitors());
      expect(module.stored).toEqual(expressSession.stored);
      expect(module.stored).not.toBeNull();
      // Ours: a session stored on request is given its cookie; express-session stores it and,
      // with saveUninitialized: false, never tells the browser, which leaves it unreachable.
      expect(module.setCookie).toEqual(attributes);
      expect(expressSession.setCookie).toEqual(settings.saveUninitialized ? attributes : null);
    });

    it("a reload() that brings in another writer's change: read alike, not written back", async () => {
      const [module, expressSession] = await both('change-and-reload', await visitors('write'));
      expect(module.body).toEqual({ count: 42 });
      expect(module.stored?.fields).toEqual(expressSession.stored?.fields);
      // Ours: what reload() read is the stored session, unchanged, so neither written back nor
      // counted a change; express-session compares it with the session as first loaded and
      // writes it back (a write that can undo a third writer's change made meanwhile), sending
      // the cookie even with rolling: false.
      expect(module.setCookie).toEqual(settings.rolling ? attributes : null);
      expect(expressSession.setCookie).toEqual(attributes);
    });
  });

  const attributes = ['Expires', 'HttpOnly', 'Path=/', 'SameSite=Lax'];

  it('sends the cookie attributes express-session sends', async () => {
    const cookie: session.CookieOptions = {
      domain: HOST,
      path: '/parity',
      sameSite: 'strict',
      priority: 'high',
      httpOnly: false,
    };
    await start({ rolling: true, saveUninitialized: false, cookie });
    const [module, expressSession] = await both('write', await visitors());
    expect(module.setCookie).toEqual([
      'Domain=acme.test',
      'Expires',
      'Path=/parity',
      'Priority=High',
      'SameSite=Strict',
    ]);
    expect(module).toEqual(expressSession);
  });

  it('a req.session set by earlier middleware: express-session keeps it, the module replaces it and warns', async () => {
    await start({ rolling: true, saveUninitialized: false });
    warnings.length = 0;
    const [module, expressSession] = await both('nothing', await visitors());
    expect(warnings).toEqual([]);
    const [preset, expressSessionPreset] = await both('preset', await visitors());
    expect(expressSessionPreset.body).toEqual({ preset: true });
    // Ours: the tenant's session replaces it, so guards, logins and revocation see the session
    // the tenant's store holds, and the log says so (see docs/express-session-compatibility.md).
    expect(preset.body).toEqual({});
    expect(warnings).toEqual([expect.stringMatching(/req\.session was already set .* replaced/)]);
    expect([module.setCookie, expressSession.setCookie]).toEqual([null, null]);
  });

  it("the store's get and destroy: express-session calls overrides of them, the module does not", async () => {
    await start({ rolling: true, saveUninitialized: false });
    const [module, expressSession] = await Promise.all(pair.map((side) => side.store()));
    const calls = (store: Store) => {
      const seen: string[] = [];
      for (const method of ['get', 'destroy'] as const) {
        const original = store[method].bind(store) as (...args: unknown[]) => unknown;
        store[method] = ((...args: unknown[]) => {
          seen.push(method);
          return original(...args);
        }) as never;
      }
      return seen;
    };
    const [moduleCalls, expressSessionCalls] = [calls(module), calls(expressSession)];
    await both('regenerate', await visitors('write'));
    expect(expressSessionCalls).toEqual(['get', 'destroy']);
    // Ours: the request path loads and regenerates on the request's Redis budget, with the
    // revocation check, not through the store's public methods (which other callers use).
    expect(moduleCalls).toEqual([]);
  });
});

/** A Set-Cookie line's attributes, sorted, with the date of Expires left out. */
function attributesOf(line: string): string[] {
  return line
    .split(';')
    .slice(1)
    .map((attribute) => attribute.trim())
    .map((attribute) => (attribute.startsWith('Expires=') ? 'Expires' : attribute))
    .sort();
}

/**
 * A stored cookie without its moment-dependent expiry, and its max-age in seconds:
 * express-session's Cookie derives `originalMaxAge` from the Date it sets, one ms short when the
 * clock ticks in between, in either app.
 */
function storedCookie(cookie: Record<string, unknown> | undefined): Record<string, unknown> {
  const { expires, originalMaxAge, ...rest } = cookie ?? {};
  return {
    ...rest,
    expires: typeof expires,
    maxAgeSeconds: Math.round((originalMaxAge as number) / 1000),
  };
}
