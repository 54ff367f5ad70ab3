import { createHmac } from 'node:crypto';
import request from 'supertest';

type App = Parameters<typeof request>[0];

/** A browser stand-in for one host: keeps the cookies the server sets and sends them back. */
export class Visitor {
  constructor(
    private readonly http: App,
    readonly host: string,
    private readonly userAgent = 'jest-visitor',
    readonly cookies = new Map<string, string>(),
  ) {}

  /**
   * A browser holding the session `sid` in the `sid` cookie, signed with `secret` as
   * express-session signs it (cookie-signature: s:<sid>.<HMAC-SHA256, base64 without padding>),
   * built here rather than by the library it tests.
   */
  static holding(http: App, host: string, sid: string, secret: string): Visitor {
    const signature = createHmac('sha256', secret).update(sid).digest('base64').replace(/=+$/, '');
    return new Visitor(http, host, 'jest-visitor', new Map([['sid', `s:${sid}.${signature}`]]));
  }

  /** The same browser (cookies, user agent) talking to another app instance. */
  on(http: App): Visitor {
    return new Visitor(http, this.host, this.userAgent, this.cookies);
  }

  get(path: string) {
    return this.send(request(this.http).get(path));
  }

  post(path: string, body?: object) {
    return this.send(
      request(this.http)
        .post(path)
        .send(body ?? {}),
    );
  }

  delete(path: string) {
    return this.send(request(this.http).delete(path));
  }

  /** A request the caller builds (a method, extra headers), sent as this visitor. */
  request(build: (agent: ReturnType<typeof request>) => request.Test) {
    return this.send(build(request(this.http)));
  }

  /** The raw `name=value` cookie header this visitor sends. */
  get cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  /** The session id inside the signed `s:<sid>.<signature>` cookie. */
  sessionId(name = 'sid'): string | undefined {
    const value = this.cookies.get(name);
    if (!value) return undefined;
    const signed = decodeURIComponent(value).slice(2);
    return signed.slice(0, signed.lastIndexOf('.'));
  }

  private async send(req: request.Test) {
    req.set('Host', this.host).set('User-Agent', this.userAgent);
    if (this.cookies.size > 0) req.set('Cookie', this.cookieHeader);
    const res = await req;
    const setCookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
    for (const line of setCookies) {
      const [pair, ...attributes] = line.split(';');
      const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
      const expired = attributes.some((a) => /expires=thu, 01 jan 1970/i.test(a.trim()));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }
}
