import { setRequestContext } from '../session/request-context.js';
import type { SessionCommit } from '../session/session-commit.js';
import { unsignedSessionId } from '../session/session-cookie.js';
import type { SessionRequest } from '../session/session-request.js';
import {
  quietNestLogger,
  SPEC_SECRET,
  specBudget,
  specRequest,
  specTenant,
} from '../session/tenant-sessions.fixture.js';
import type { TenantSessions } from '../session/tenant-sessions.js';
import { MemoryBackend } from '../store/memory/memory-backend.js';
import { SessionTelemetry } from '../telemetry/session-telemetry.js';
import { SessionLoginService } from './session-login.service.js';

/** How the answer's cookie follows the logins and logouts a request makes. */
describe('SessionLoginService and the answer’s cookie', () => {
  let backend: MemoryBackend;
  let tenant: TenantSessions;
  const sessions = new SessionLoginService(SessionTelemetry.off);

  quietNestLogger();
  beforeEach(() => {
    backend = new MemoryBackend();
    tenant = specTenant(backend);
  });
  afterEach(() => backend.close());

  /** A request as the middleware sets it up, with the commit its response will run. */
  async function request(cookie?: string): Promise<{ req: SessionRequest; commit: SessionCommit }> {
    const req = specRequest({ cookie });
    setRequestContext(req, { tenant });
    const commit = (await tenant.loader.load(req, '/', specBudget()))!;
    return { req, commit };
  }

  const sessionIn = (line: string | undefined) =>
    line &&
    unsignedSessionId(decodeURIComponent(line.split(';')[0].slice('sid='.length)), [SPEC_SECRET]);

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

    expect(await tenant.reader.read(req.sessionID!, specBudget())).not.toBeNull();
    expect(sessionIn(commit.cookieLine(200))).toBe(req.sessionID);
  });
});
