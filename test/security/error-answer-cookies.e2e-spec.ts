import { jest } from '@jest/globals';
import {
  Controller,
  Get,
  HttpException,
  Param,
  Post,
  Redirect,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { Request } from 'express';
import { Redis } from 'ioredis';
import {
  SessionAuthGuard,
  SessionLoginService,
  SessionStoreUnavailableException,
} from 'nestjs-tenant-session';
import type request from 'supertest';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';

/**
 * Issue 18, item 7: a 503 of revoke-others carried `Set-Cookie: sid=<same id>` with a new
 * Expires. An error answer (status 400 or more) never carries the session cookie, whatever the
 * session did during the request; a redirect does (a form login answers 302 with its session).
 */

/** What Express's response and Fastify's reply both offer: setting the status. */
interface StatusReply {
  status(code: number): unknown;
}

/** Routes answering each kind of status, from the app and from the module (on either platform). */
@Controller()
class AnswerController {
  constructor(private readonly logins: SessionLoginService) {}

  /** Answers `status`: an HttpException for an error, a plain answer otherwise. */
  @Get('answer/:status')
  @UseGuards(SessionAuthGuard)
  answer(@Param('status') status: string, @Res({ passthrough: true }) res: StatusReply) {
    const code = Number(status);
    if (code >= 400) throw new HttpException({ statusCode: code, message: 'on purpose' }, code);
    res.status(code);
    return { status: code };
  }

  @Get('redirect')
  @UseGuards(SessionAuthGuard)
  @Redirect('/me', 302)
  redirect() {}

  /** Something the app did not expect: Nest answers 500. */
  @Get('crash')
  @UseGuards(SessionAuthGuard)
  crash() {
    throw new Error('unexpected');
  }

  /** Changes the session, then fails: the change is stored, the cookie does not go out. */
  @Post('visit-then-fail/:status')
  visitThenFail(@Req() req: Request, @Param('status') status: string) {
    req.session.visits = (req.session.visits ?? 0) + 1;
    throw new HttpException('on purpose', Number(status));
  }

  /** A form login: the new session's cookie rides on the redirect. */
  @Post('form-login')
  @Redirect('/me', 302)
  async formLogin(@Req() req: Request) {
    await this.logins.login(req, 'mallory', { data: { user: 'mallory' } });
  }

  /** A login whose request then fails: the browser is not handed that session. */
  @Post('login-then-fail')
  async loginThenFail(@Req() req: Request) {
    await this.logins.login(req, 'niaj', { data: { user: 'niaj' } });
    throw new HttpException('on purpose', 403);
  }
}

const setCookies = (res: request.Response) =>
  ([] as string[]).concat(res.headers['set-cookie'] ?? []);
/** The session ids the response's Set-Cookie lines carry for `sid` (`s:<id>.<signature>`). */
const sessionCookies = (res: request.Response) =>
  setCookies(res)
    .filter((line) => line.startsWith('sid='))
    .map((line) => {
      const signed = decodeURIComponent(line.slice('sid='.length, line.indexOf(';'))).slice(2);
      return signed.slice(0, signed.lastIndexOf('.'));
    });

describe('an error answer never carries the session cookie (issue 18, item 7)', () => {
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(process.env.TEST_REDIS_URL!);
  });
  afterAll(() => redis?.disconnect());

  describe.each([
    ['rolling', true],
    ['not rolling', false],
  ])('%s', (_, rolling) => {
    const appName = rolling ? 'errcookies' : 'errcookiesnr';
    let t: TestApp;

    beforeAll(async () => {
      t = await createTestApp({ appName, rolling }, { controllers: [AnswerController] });
    });
    afterAll(() => t?.close());

    const loggedIn = async (user: string) => {
      const visitor = new Visitor(t.http, 'acme.test');
      expect((await visitor.post('/login', { user })).status).toBe(201);
      return visitor;
    };

    it.each([401, 403, 404, 409, 422, 500, 503])(
      'an HttpException %i from the app: no session cookie, the session lives on',
      async (status) => {
        const alice = await loggedIn('alice');

        const res = await alice.get(`/answer/${status}`);

        expect(res.status).toBe(status);
        expect(setCookies(res)).toEqual([]);
        expect((await alice.get('/me')).body).toMatchObject({ user: 'alice' });
      },
    );

    it('an unexpected error (500 from Nest): no session cookie', async () => {
      const bob = await loggedIn('bob');

      const res = await bob.get('/crash');

      expect(res.status).toBe(500);
      expect(setCookies(res)).toEqual([]);
    });

    it('a guard refusing (401 Login required): no session cookie for the anonymous session', async () => {
      const res = await new Visitor(t.http, 'acme.test').get('/answer/200');

      expect(res.status).toBe(401);
      expect(setCookies(res)).toEqual([]);
    });

    it.each([400, 500])(
      'a session changed by a request that answers %i is stored, and its cookie not sent',
      async (status) => {
        const carol = await loggedIn('carol');

        const res = await carol.post(`/visit-then-fail/${status}`);

        expect(res.status).toBe(status);
        expect(setCookies(res)).toEqual([]);
        const stored = JSON.parse(
          (await redis.get(`sessions:acme:${appName}:${carol.sessionId()}`))!,
        );
        expect(stored.visits).toBe(1);
      },
    );

    it('a login whose request then fails: the browser is not handed that session', async () => {
      const anonymous = new Visitor(t.http, 'acme.test');

      const res = await anonymous.post('/login-then-fail');

      expect(res.status).toBe(403);
      expect(setCookies(res)).toEqual([]);
    });

    it('a form login answering 302 carries its new session', async () => {
      const browser = new Visitor(t.http, 'acme.test');

      const res = await browser.post('/form-login');

      expect(res.status).toBe(302);
      expect(sessionCookies(res)).toEqual([browser.sessionId()]);
      expect((await browser.get('/me')).body).toMatchObject({ user: 'mallory' });
    });

    if (rolling) {
      it.each([200, 201, 204])(
        'a %i carries the same session, its expiry renewed',
        async (status) => {
          const dave = await loggedIn('dave');
          const sid = dave.sessionId();

          const res = await dave.get(`/answer/${status}`);

          expect(res.status).toBe(status);
          expect(sessionCookies(res)).toEqual([sid]);
          expect(setCookies(res)[0]).toMatch(/; Expires=/);
        },
      );

      it('a redirect (302) carries the same session, its expiry renewed', async () => {
        const erin = await loggedIn('erin');

        const res = await erin.get('/redirect');

        expect(res.status).toBe(302);
        expect(sessionCookies(res)).toEqual([erin.sessionId()]);
      });
    }

    it("the review's case: revoke-others answering 503 (replicas did not confirm) sends no cookie", async () => {
      const grace = await loggedIn('grace');
      const unconfirmed = new SessionStoreUnavailableException(
        'not acknowledged by enough replicas',
      );
      jest.spyOn(t.sessions, 'revokeOthers').mockRejectedValueOnce(unconfirmed);

      const res = await grace.post('/sessions/revoke-others');

      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ message: 'Session store unavailable' });
      expect(setCookies(res)).toEqual([]);
      expect((await grace.get('/me')).status).toBe(200);
    });

    it("a 503 from the module's own exception path (revoke-others, its index unreadable): no cookie", async () => {
      const frank = await loggedIn('frank');
      await loggedIn('frank');
      const indexKey = `sessions-index:acme:${appName}:frank`;
      await redis.del(indexKey);
      await redis.set(indexKey, 'written by something else');
      try {
        const revoke = await frank.post('/sessions/revoke-others');
        const list = await frank.get('/sessions');

        expect([revoke.status, list.status]).toEqual([503, 503]);
        expect(revoke.body).toMatchObject({ statusCode: 503 });
        expect([...setCookies(revoke), ...setCookies(list)]).toEqual([]);
      } finally {
        await redis.del(indexKey);
      }
    });
  });
});
