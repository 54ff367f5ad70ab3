import type {
  LoginDetails,
  LoginFields,
  LoginFieldsHook,
} from '../options/login-fields.interface.js';
import { ThrottledLogger } from '../util/throttled-logger.js';

/** The bounds of `LoginFields` (see its TSDoc): what one login may add to every listing. */
export const LOGIN_FIELDS_LIMITS = {
  fields: 16,
  nameLength: 32,
  stringLength: 256,
  jsonBytes: 1024,
} as const;

const FIELD_NAME = new RegExp(`^[A-Za-z][A-Za-z0-9_]{0,${LOGIN_FIELDS_LIMITS.nameLength - 1}}$`);

/**
 * Runs the app's `loginFields` hook for a login, within its time, and keeps what it returns only
 * when it is in bounds. Its failures never fail the login: the fields are display data, and a
 * GeoIP service that is down must not lock every user out. Each failure is logged (what went
 * wrong, never the login's data), at most once a minute per kind.
 */
export class LoginFieldsRecorder {
  private readonly log = new ThrottledLogger('TenantSession', 60_000);

  constructor(
    private readonly hook: LoginFieldsHook | undefined,
    private readonly timeoutMs: number,
  ) {}

  /** The hook's fields for this login; undefined without a hook, or when it failed (logged). */
  async fieldsFor(login: LoginDetails): Promise<LoginFields | undefined> {
    if (!this.hook) return undefined;
    const hook = this.hook;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.timeoutMs);
    });
    try {
      const answer = await Promise.race([
        Promise.resolve().then(() => hook(login, controller.signal)),
        timedOut,
      ]);
      if (answer === 'timeout') {
        controller.abort();
        this.log.warn(
          `loginFields did not answer within ${this.timeoutMs} ms; the login goes on without its fields`,
        );
        return undefined;
      }
      if (answer === undefined) return undefined;
      const fault = loginFieldsFault(answer);
      if (fault === undefined) return answer;
      this.log.warn(`loginFields returned ${fault}; the login goes on without its fields`);
    } catch (err) {
      // The error's kind only: its message may carry the address or user agent it was given.
      const kind = err instanceof Error ? err.constructor.name : typeof err;
      this.log.warn(`loginFields failed (${kind}); the login goes on without its fields`);
    } finally {
      clearTimeout(timer);
    }
    return undefined;
  }
}

/**
 * Why a value is not `LoginFields` within their bounds (named, never quoted), or undefined when
 * it is. Also how a listing checks fields read back from the store.
 */
export function loginFieldsFault(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'something other than an object of fields';
  }
  const entries = Object.entries(value);
  if (entries.length > LOGIN_FIELDS_LIMITS.fields) {
    return `more than ${LOGIN_FIELDS_LIMITS.fields} fields`;
  }
  for (const [name, field] of entries) {
    if (!FIELD_NAME.test(name)) {
      return `a field name that is not a letter then up to ${LOGIN_FIELDS_LIMITS.nameLength - 1} letters, digits or _`;
    }
    if (typeof field === 'string') {
      if (field.length > LOGIN_FIELDS_LIMITS.stringLength) {
        return `${name}: a string longer than ${LOGIN_FIELDS_LIMITS.stringLength} characters`;
      }
    } else if (typeof field !== 'boolean' && !(typeof field === 'number' && isFinite(field))) {
      return `${name}: neither a string, a finite number nor a boolean`;
    }
  }
  if (Buffer.byteLength(JSON.stringify(value)) > LOGIN_FIELDS_LIMITS.jsonBytes) {
    return `fields over ${LOGIN_FIELDS_LIMITS.jsonBytes} bytes as JSON`;
  }
  return undefined;
}
