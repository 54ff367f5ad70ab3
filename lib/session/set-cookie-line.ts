import { Cookie, type Session } from 'express-session';

/** express-session's Cookie serializes itself (its `data`, by the `cookie` package). */
export type SerializableCookie = Session['cookie'] & {
  serialize(name: string, value: string): string;
};

/** The attributes a Set-Cookie line carries besides its value and Expires. */
const ATTRIBUTES = [
  'domain',
  'path',
  'httpOnly',
  'secure',
  'partitioned',
  'priority',
  'sameSite',
] as const;
type Attributes = { [name in (typeof ATTRIBUTES)[number]]?: unknown };

/** A date whose text marks where Expires goes in a line formatted once. */
const EXPIRES_MARK = new Date(0);

/**
 * The Set-Cookie line of one tenant's session cookie, exactly as express-session writes it
 * (`cookie.serialize(name, value, cookie.data)`), for every response that rolls the cookie.
 * Only the value and the Expires date (whole seconds) differ between a tenant's sessions, so
 * the rest, formatted and validated by express-session, is kept from the last line made with
 * the same attributes; a cookie the app changed gets its own, and anything but a valid Date as
 * its expiry goes to express-session, which throws as it always did.
 */
export class SetCookieLines {
  private attributes: Attributes | undefined;
  /** The line's text before `; Expires=…` (after `name=value`) and after it. */
  private beforeExpires = '';
  private afterExpires = '';
  private expiresSecond = NaN;
  private expiresText = '';

  constructor(private readonly name: string) {}

  line(value: string, cookie: SerializableCookie): string {
    const expires: unknown = cookie.expires;
    const validExpiry =
      expires == null || (expires instanceof Date && !Number.isNaN(expires.getTime()));
    if (!validExpiry) return cookie.serialize(this.name, value);
    if (!this.hasAttributesOf(cookie)) this.formatAttributesOf(cookie);
    // encodeURIComponent is the `cookie` package's default encoding, and what it yields always
    // passes the package's value check.
    const head = `${this.name}=${encodeURIComponent(value)}${this.beforeExpires}`;
    return expires
      ? `${head}; Expires=${this.expiresOf(expires)}${this.afterExpires}`
      : head + this.afterExpires;
  }

  private hasAttributesOf(cookie: SerializableCookie): boolean {
    const known = this.attributes;
    if (!known) return false;
    const attributes = cookie as unknown as Attributes;
    for (const name of ATTRIBUTES) if (known[name] !== attributes[name]) return false;
    return true;
  }

  /** Formats the line's fixed parts by express-session itself, which throws on a bad one. */
  private formatAttributesOf(cookie: SerializableCookie): void {
    const attributes: Attributes = {};
    for (const name of ATTRIBUTES) attributes[name] = (cookie as unknown as Attributes)[name];
    const probe = new (Cookie as unknown as new (options: object) => SerializableCookie)(
      attributes,
    );
    probe.expires = EXPIRES_MARK;
    const line = probe.serialize(this.name, '');
    const mark = `; Expires=${EXPIRES_MARK.toUTCString()}`;
    const at = line.indexOf(mark);
    this.beforeExpires = line.slice(this.name.length + 1, at);
    this.afterExpires = line.slice(at + mark.length);
    this.attributes = attributes;
  }

  /** Date's UTC text, which the `cookie` package writes, changes once a second. */
  private expiresOf(expires: Date): string {
    const second = Math.floor(expires.getTime() / 1000);
    if (second !== this.expiresSecond) {
      this.expiresText = expires.toUTCString();
      this.expiresSecond = second;
    }
    return this.expiresText;
  }
}
