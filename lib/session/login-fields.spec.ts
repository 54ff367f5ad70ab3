import { ConsoleLogger, Logger, type LoggerService } from '@nestjs/common';
import type { LoginDetails, LoginFieldsHook } from '../options/login-fields.interface.js';
import { MemoryBackend } from '../store/memory/memory-backend.js';
import { LoginFieldsRecorder, loginFieldsFault } from './login-fields.js';
import { generateSessionId } from './session-id.js';
import {
  SPEC_LIFETIME_MS,
  specBudget,
  specCookie,
  specRequest,
  specTenant,
} from './tenant-sessions.fixture.js';
import { IPHONE_SAFARI } from './user-agents.fixture.js';

const LOGIN: LoginDetails = {
  tenant: 'acme',
  userId: 'alice',
  ip: '203.0.113.7',
  userAgent: IPHONE_SAFARI,
  device: { browser: 'Safari', browserVersion: '17.5', os: 'iOS', type: 'mobile' },
};

/** Every warning said while a test runs (Nest's logger replaced for the describe). */
function capturedWarnings(): string[] {
  const warnings: string[] = [];
  const capture: LoggerService = {
    log: () => {},
    error: (message: string) => warnings.push(String(message)),
    warn: (message: string) => warnings.push(String(message)),
  };
  beforeAll(() => Logger.overrideLogger(capture));
  afterAll(() => Logger.overrideLogger(new ConsoleLogger()));
  beforeEach(() => (warnings.length = 0));
  return warnings;
}

describe('LoginFieldsRecorder', () => {
  const warnings = capturedWarnings();
  const record = (hook: LoginFieldsHook | undefined, timeoutMs = 200) =>
    new LoginFieldsRecorder(hook, timeoutMs).fieldsFor(LOGIN);

  it("keeps a hook's fields in bounds, given the login's details", async () => {
    const seen: LoginDetails[] = [];

    const fields = await record(async (login) => {
      seen.push(login);
      return { city: 'Lisbon', country: 'PT', accuracyKm: 20, vpn: false };
    });

    expect(fields).toEqual({ city: 'Lisbon', country: 'PT', accuracyKm: 20, vpn: false });
    expect(seen).toEqual([LOGIN]);
    expect(warnings).toEqual([]);
  });

  it('records no fields without a hook, or when it returns none', async () => {
    expect(await record(undefined)).toBeUndefined();
    expect(await record(() => undefined)).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it('goes on without fields when the hook throws or rejects, logging the kind of error only', async () => {
    const secret = `${LOGIN.ip} ${LOGIN.userId}`;

    expect(
      await record(() => {
        throw new TypeError(secret);
      }),
    ).toBeUndefined();
    expect(await record(() => Promise.reject(new RangeError(secret)))).toBeUndefined();

    expect(warnings).toEqual([
      'loginFields failed (TypeError); the login goes on without its fields',
      'loginFields failed (RangeError); the login goes on without its fields',
    ]);
    expect(warnings.join('\n')).not.toMatch(/203\.0\.113\.7|alice/);
  });

  it('goes on without fields when the hook does not answer in time, and aborts its signal', async () => {
    let signal: AbortSignal | undefined;
    const began = Date.now();

    const fields = await record((_, s) => {
      signal = s;
      return new Promise(() => {});
    }, 50);

    expect(fields).toBeUndefined();
    expect(Date.now() - began).toBeLessThan(1000);
    expect(signal?.aborted).toBe(true);
    expect(warnings).toEqual([
      'loginFields did not answer within 50 ms; the login goes on without its fields',
    ]);
  });

  it('drops fields out of bounds, saying which bound and quoting no value', async () => {
    const fields = await record(() => ({ city: 'x'.repeat(257) }));

    expect(fields).toBeUndefined();
    expect(warnings).toEqual([
      'loginFields returned city: a string longer than 256 characters; the login goes on without its fields',
    ]);
  });
});

describe('loginFieldsFault', () => {
  it('accepts flat fields within every bound', () => {
    const sixteen = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`f${i}`, i]));
    expect(loginFieldsFault(sixteen)).toBeUndefined();
    expect(loginFieldsFault({ city: 'x'.repeat(256), ok: true, n: -1.5 })).toBeUndefined();
    expect(loginFieldsFault({})).toBeUndefined();
  });

  it.each([
    ['not an object', 'Lisbon', 'something other than an object of fields'],
    ['null', null, 'something other than an object of fields'],
    ['an array', ['Lisbon'], 'something other than an object of fields'],
    [
      '17 fields',
      Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`f${i}`, i])),
      'more than 16 fields',
    ],
    ['a name starting with _', { __proto: 1 }, 'a field name that is not'],
    ['a name with a dot', { 'geo.city': 'x' }, 'a field name that is not'],
    ['a name of 33 characters', { ['a'.repeat(33)]: 1 }, 'a field name that is not'],
    ['a nested object', { geo: { city: 'x' } }, 'geo: neither a string'],
    ['an infinite number', { n: Infinity }, 'n: neither a string'],
    ['NaN', { n: NaN }, 'n: neither a string'],
    ['null field', { n: null }, 'n: neither a string'],
    [
      'over 1 KiB as JSON',
      Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`f${i}`, 'é'.repeat(120)])),
      'fields over 1024 bytes as JSON',
    ],
  ])('refuses %s', (_, value, fault) => {
    expect(loginFieldsFault(value)).toContain(fault);
  });
});

describe('a login records its device and fields with its owner', () => {
  let backend: MemoryBackend;
  capturedWarnings();
  beforeEach(() => (backend = new MemoryBackend()));
  afterEach(() => backend.close());

  async function logIn(hook: LoginFieldsHook | undefined) {
    const tenant = specTenant(backend, { loginFields: hook });
    const sid = generateSessionId({}, backend.now(), SPEC_LIFETIME_MS);
    const req = specRequest({ client: { ip: '203.0.113.7', userAgent: IPHONE_SAFARI } });
    await tenant.writer.save(
      sid,
      { cookie: specCookie(), passport: { user: 'alice' } },
      specBudget(),
      req,
    );
    const raw = backend.tables.sessions.get(tenant.keys.session(sid))!.value;
    return tenant.owners.interpret(sid, raw);
  }

  it('stores the parsed device and the fields of a hook that ran before the admission', async () => {
    const order: string[] = [];
    const indexKey = specTenant(backend).keys.index('alice');
    const hook: LoginFieldsHook = async ({ device }) => {
      const indexed = backend.tables.indexes.has(indexKey);
      order.push(indexed ? 'after admission' : 'before admission');
      return { city: 'Lisbon', type: device.type };
    };

    const stored = await logIn(hook);

    expect(order).toEqual(['before admission']);
    expect(stored).toMatchObject({
      verdict: 'owned',
      owner: {
        ip: '203.0.113.7',
        userAgent: IPHONE_SAFARI,
        device: { browser: 'Safari', browserVersion: '17.5', os: 'iOS', type: 'mobile' },
        fields: { city: 'Lisbon', type: 'mobile' },
      },
    });
  });

  it('stores the login without fields when the hook fails', async () => {
    const stored = await logIn(() => {
      throw new Error('GeoIP down');
    });

    expect(stored?.verdict).toBe('owned');
    expect(stored && 'owner' in stored && stored.owner).toMatchObject({
      device: { type: 'mobile' },
    });
    expect(stored && 'owner' in stored && stored.owner).not.toHaveProperty('fields');
  });
});
