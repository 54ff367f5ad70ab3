/**
 * The types of what a listing tells about each session's device, and of the `loginFields` hook
 * through which an app adds its own fields at login (a city from its GeoIP service, say).
 */

/** What kind of device a user agent names; `unknown` when it names none the parser knows. */
export type DeviceType = 'desktop' | 'mobile' | 'tablet' | 'bot' | 'unknown';

/** A session's browser, OS and kind of device, parsed from its user agent at login. */
export interface SessionDevice {
  /** E.g. `Chrome`, `Safari`, `Microsoft Edge`, `Googlebot`; absent when not recognised. */
  browser?: string;
  /** As the user agent gives it, e.g. `131.0.0.0`; absent when not recognised. */
  browserVersion?: string;
  /** E.g. `macOS`, `iOS`, `Android`, `Windows`, `Linux`; absent when not recognised. */
  os?: string;
  type: DeviceType;
}

/**
 * An app's own fields about a login, listed with its session: flat, at most 16 of them, names of
 * letters, digits and `_` starting with a letter (at most 32 characters), strings of at most 256
 * characters, finite numbers or booleans, at most 1 KiB as JSON. Display data, like `ip` and
 * `userAgent`: stored beside the session unsealed, so never a basis for an access decision.
 */
export type LoginFields = Record<string, string | number | boolean>;

/** What the `loginFields` hook is told about a login. */
export interface LoginDetails {
  tenant: string;
  userId: string;
  /** The client address as Express sees it (`trust proxy` applies), IPv4-mapped as IPv4. */
  ip?: string;
  userAgent?: string;
  device: SessionDevice;
}

/**
 * Adds an app's own fields to a login's listing data; called once per login, before the login
 * is admitted. It has `operationTimeoutMs` to answer (`signal` aborts then). A hook that throws,
 * rejects, runs out of time or returns fields out of bounds never fails the login: the login
 * goes on without fields and a warning is logged (no session data in it).
 */
export type LoginFieldsHook = (
  login: LoginDetails,
  signal: AbortSignal,
) => LoginFields | undefined | Promise<LoginFields | undefined>;
