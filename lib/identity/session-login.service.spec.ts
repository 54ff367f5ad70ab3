import { ConsoleLogger, Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { setRequestContext } from '../session/request-context.js';
import { setRequestFacts } from '../session/request-facts.js';
import type { SessionCommit } from '../session/session-commit.js';
import { unsignedSessionId } from '../session/session-cookie.js';
import { SessionLifecycle } from '../session/session-lifecycle.js';
import type { SessionRequest } from '../session/session-request.js';
import { buildTenantSessions, type TenantSessions } from '../session/tenant-sessions.js';
import { MemoryBackend } from '../store/memory/memory-backend.js';
import { OperationBudget } from '../store/operation-budget.js';
import { SessionLoginService } from './session-login.service.js';

const SECRET = 'login-spec-secret-0123456789abcdefgh';
const TTL_MS = 60_000;

const budget = () => new OperationBudget(5000);

/** How the answer's cookie follows the logins and logouts a request makes. */
describe('SessionLoginService and the answer’s cookie', () => {
  let backend: MemoryBackend;
  let tenant: TenantSessions;
  const sessions = new SessionLoginService();

  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(new ConsoleLogger()));
  beforeEach(() => {
    backend = new MemoryBackend();
    tenant = buildTenantSessions({
      tenant: 'acme',
      appName: 'app',
      deployment: 'default',
      backend,
      keyTemplates: {
        keyPrefix: 'sessions:{tenant}:{app}:',
        indexPrefix: 'sessions-index:{tenant}:{app}:',
      },
      secrets: [SECRET],
      identity: (s) => (s.passport as { user?: unknown } | undefined)?.user,
      idleTtlMs: TTL_MS,
      lifetimeMs: 3600_000,
      operationTimeoutMs: 1000,
      cookieName: 'sid',
      cookie: { path: '/', httpOnly: true, maxAge: TTL_MS },
      rolling: true,
      saveUninitialized: false,
      trustedOrigins: new Set(),
      lifecycle: new SessionLifecycle(),
    });
  });
  afterEach(() => backend.close());

  /** A request as the middleware sets it up, with the commit its response will run. */
  async function request(cookie?: string): Promise<{ req: SessionRequest; commit: SessionCommit }> {
    const req: SessionRequest = { headers: cookie === undefined ? {} : { cookie } };
    setRequestFacts(req, {
      arrivedAt: performance.now(),
      budget: budget(),
      client: {},
      secure: false,
    });
    setRequestContext(req, { tenant });
    const commit = (await tenant.loader.load(req, '/', budget()))!;
    return { req, commit };
  }

  const sessionIn = (line: string | undefined) =>
    line &&
    unsignedSessionId(decodeURIComponent(line.split(';')[0].slice('sid='.length)), [SECRET]);

  async function loggedInCookie(userId: string): Promise<string> {
    const { req, commit } = await request();
    await sessions.login(req, userId);
    return commit.cookieLine(200)!.split(';')[0];
  }

  it("answers a login with its new session's cookie", async () => {
    const { req, commit } = await request();

    await sessions.login(req, 'alice');

    expect(sessionIn(commit.cookieLine(200))).toBe(req.sessionID);
    expect(sessions.userId(req)).toBe('alice');
  });

  it('answers a logout with the clearing cookie', async () => {
    const { req, commit } = await request(await loggedInCookie('alice'));

    await sessions.logout(req);

    expect(commit.cookieLine(200)).toMatch(/^sid=; .*Expires=Thu, 01 Jan 1970 00:00:00 GMT/);
  });

  it("answers a logout then a login in the same request with the new session's cookie", async () => {
    const { req, commit } = await request(await loggedInCookie('alice'));

    await sessions.logout(req);
    await sessions.login(req, 'bob');

    expect(await tenant.reader.read(req.sessionID!, budget())).not.toBeNull();
    expect(sessionIn(commit.cookieLine(200))).toBe(req.sessionID);
  });
});
