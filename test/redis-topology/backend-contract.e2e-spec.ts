import { Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import { SessionStoreUnavailableException } from '../../lib/errors/session-store-unavailable.exception.js';
import { WrongTypeError } from '../../lib/errors/wrong-type.error.js';
import { TenantKeys } from '../../lib/store/keys.js';
import { OperationBudget } from '../../lib/store/operation-budget.js';
import { NOT_BEFORE_MEMBER, NOT_BEFORE_RETENTION_MS } from '../../lib/store/scripts.js';
import type { SessionBackend } from '../../lib/store/session-backend.interface.js';
import type { TtlRestart } from '../../lib/store/session-key-store.interface.js';
import type {
  IndexPage,
  IndexPosition,
  LoginStart,
} from '../../lib/store/user-index-store.interface.js';
import {
  CONTRACT_BACKENDS,
  redisBackend,
  type ContractBackend,
  type IndexProbe,
} from '../support/contract-backends.js';
import { CommandMonitor } from '../support/monitor.js';
import { freePort, startRedisServer, type RedisServer } from '../support/redis-server.mjs';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const randomId = () => Math.random().toString(36).slice(2, 10);

/** Ample for one call on a busy machine: these tests are about semantics, not deadlines. */
const budget = () => new OperationBudget(5000);

/** A request's read (its TTL restarted), the value only. */
const loadValue = (backend: SessionBackend, key: string, ttlMs: number, work: OperationBudget) =>
  backend.keys.read(key, { mode: 'always', ttlMs }, undefined, work).then((read) => read.value);

/** A renewal that is due: the lease extended to now + `leaseMs`, unless already past that. */
const renew = (
  backend: SessionBackend,
  indexKey: string,
  sid: string,
  leaseMs: number,
  work: OperationBudget,
) => backend.indexes.lease(indexKey, sid, leaseMs, leaseMs, work);

/** A login that began `agoMs` before now, dated both ways as the store dates it (LoginStart). */
const ago = (backend: SessionBackend, agoMs: number): LoginStart => ({
  agoMs,
  at: backend.lifecycle.now() - agoMs,
});

/** A budget some earlier step of the same unit of work used up. */
function spentBudget(): OperationBudget {
  const spent = new OperationBudget(1000);
  spent.spend(1000);
  return spent;
}

/**
 * Runs each call in turn and names how it ended: 'ok', 'WrongTypeError', '503: <reason>' ('503'
 * alone without `reasons`: a reason is the backend's own wording), or 'unexpected <error>'.
 */
async function outcomes(
  calls: Record<string, () => Promise<unknown>>,
  { reasons = true } = {},
): Promise<Record<string, string>> {
  const ended: Record<string, string> = {};
  for (const [name, call] of Object.entries(calls)) {
    ended[name] = await call().then(
      () => 'ok',
      (error: unknown) => {
        if (error instanceof SessionStoreUnavailableException) {
          return reasons ? `503: ${error.reason}` : '503';
        }
        return error instanceof WrongTypeError ? 'WrongTypeError' : `unexpected ${String(error)}`;
      },
    );
  }
  return ended;
}

/**
 * One contract, every backend: what the module relies on must hold for Redis and for the
 * embedded in-process store alike. Keys are namespaced per test, so tests sharing the server
 * never see each other's keys. Short TTLs are checked with margins of hundreds of ms.
 */
describe.each(CONTRACT_BACKENDS)('SessionBackend contract: %s', (_, create) => {
  let fixture: ContractBackend;
  let backend: SessionBackend;
  let probe: IndexProbe;
  let ns: string;

  beforeEach(async () => {
    fixture = await create();
    ({ backend, probe } = fixture);
    ns = `contract:${randomId()}:`;
  });
  afterEach(() => fixture.close());

  const key = (name: string) => `${ns}sessions:${name}`;
  const indexKey = (user = 'alice') => `${ns}sessions-index:${user}`;
  const put = (name: string, value: string, ttlMs: number) =>
    backend.keys.write({ key: key(name), value, ttlMs, onlyIfExists: false }, budget());
  const update = (name: string, value: string, ttlMs?: number) =>
    backend.keys.write({ key: key(name), value, ttlMs, onlyIfExists: true }, budget());
  const gone = { value: null, ttlMs: expect.any(Number) as number };
  const expectGone = async (...names: string[]) => {
    const stored = await backend.keys.inspect(names.map(key), budget());
    expect(stored).toEqual(names.map(() => gone));
    for (const { ttlMs } of stored) expect(ttlMs).toBeLessThan(0);
  };
  /** Admits a login that began `sinceMs` ago and returns its lease (fails the test if refused). */
  const admitted = async (sid: string, leaseMs: number, sinceMs = 0, index = indexKey()) => {
    const admission = await backend.indexes.admit(
      index,
      sid,
      leaseMs,
      ago(backend, sinceMs),
      budget(),
    );
    if (!admission.admitted) throw new Error(`login ${sid} was refused`);
    return admission.until;
  };
  const sids = async (index = indexKey()) =>
    (await backend.indexes.entries(index, false, budget())).map((entry) => entry.sid);

  describe('sessions', () => {
    it('load returns what was written and restarts its TTL', async () => {
      await put('s1', '{"a":1}', 1000);
      await sleep(300);
      expect(await loadValue(backend, key('s1'), 1500, budget())).toBe('{"a":1}');
      // Past the first TTL, within the restarted one.
      await sleep(1000);
      expect(await loadValue(backend, key('s1'), 1500, budget())).toBe('{"a":1}');
      await sleep(2000);
      expect(await loadValue(backend, key('s1'), 1500, budget())).toBeNull();
    });

    it('load of a missing session returns null and creates nothing', async () => {
      expect(await loadValue(backend, key('missing'), 60_000, budget())).toBeNull();
      await expectGone('missing');
    });

    it('an update (onlyIfExists) never re-creates a session that is gone', async () => {
      expect(await update('never-written', '{}', 60_000)).toBe(false);

      await put('taken', '{}', 60_000);
      await backend.keys.removeIfHolds(key('taken'), '{}', budget());
      expect(await update('taken', '{}', 60_000)).toBe(false);

      await put('expired', '{}', 200);
      await sleep(600);
      expect(await update('expired', '{}')).toBe(false);

      await expectGone('never-written', 'taken', 'expired');

      await put('here', '{"v":1}', 60_000);
      expect(await update('here', '{"v":2}', 60_000)).toBe(true);
      expect(await loadValue(backend, key('here'), 60_000, budget())).toBe('{"v":2}');
    });

    it('a write with ttlMs sets the TTL; without ttlMs it keeps the current one (KEEPTTL)', async () => {
      await put('k', '1', 60_000);
      expect(await update('k', '2')).toBe(true);
      const [kept] = await backend.keys.inspect([key('k')], budget());
      expect(kept.value).toBe('2');
      expect(kept.ttlMs).toBeGreaterThan(50_000);
      expect(kept.ttlMs).toBeLessThanOrEqual(60_000);

      expect(await update('k', '3', 5000)).toBe(true);
      const [shortened] = await backend.keys.inspect([key('k')], budget());
      expect(shortened.value).toBe('3');
      expect(shortened.ttlMs).toBeGreaterThan(3000);
      expect(shortened.ttlMs).toBeLessThanOrEqual(5000);
    });

    it('a write without ttlMs on a short-lived session does not make it outlive its TTL', async () => {
      // Long enough to outlast a loaded machine's stall before the write, short enough to wait out.
      await put('short', '1', 1500);
      expect(await update('short', '2')).toBe(true);
      await sleep(2000);
      await expectGone('short');
    });

    it('expire sets a session TTL, and creates nothing for a missing one', async () => {
      await put('k', 'x', 100_000);
      await backend.keys.expire(key('k'), { ttlMs: 2000 }, budget());
      const [stored] = await backend.keys.inspect([key('k')], budget());
      expect(stored.value).toBe('x');
      expect(stored.ttlMs).toBeGreaterThan(1000);
      expect(stored.ttlMs).toBeLessThanOrEqual(2000);

      await backend.keys.expire(key('missing'), { ttlMs: 2000 }, budget());
      await expectGone('missing');
    });

    it('a key given an instant (expiresAt) expires at it by the store clock, not ttlMs after the command ran', async () => {
      // The deadline case (session-lifetime.ts): ttlMs says a minute, the instant 5 s from now
      // (one instant for every command: a loaded machine's stall must not reach it before the
      // check; 1.5 s did once).
      const expiresAt = Math.floor(backend.lifecycle.now()) + 5000;
      const expiry = { ttlMs: 60_000, expiresAt };
      const check = (sid: string) => ({
        indexPrefix: `${ns}sessions-index:`,
        sid,
        leaseMs: 180_000,
        renewBelowMs: 120_000,
      });
      const read = (name: string, restart: TtlRestart, withCheck: boolean) =>
        backend.keys.read(key(name), restart, withCheck ? check(name) : undefined, budget());

      await backend.keys.write(
        { key: key('w'), value: 'x', ...expiry, onlyIfExists: false },
        budget(),
      );
      // Ten seconds left: far below the minute (so ran down), far above a loaded machine's stall.
      for (const name of ['a', 'a-checked', 'r', 'r-checked', 'e']) await put(name, 'x', 10_000);
      for (const withCheck of [false, true]) {
        const suffix = withCheck ? '-checked' : '';
        expect((await read(`a${suffix}`, { mode: 'always', ...expiry }, withCheck)).value).toBe(
          'x',
        );
        // Ran down (10 s left of a minute): restarted, to the instant.
        const ranDown = { mode: 'ran-down', slackMs: 600, ...expiry } as const;
        expect((await read(`r${suffix}`, ranDown, withCheck)).value).toBe('x');
      }
      await backend.keys.expire(key('e'), expiry, budget());

      const names = ['w', 'a', 'a-checked', 'r', 'r-checked', 'e'];
      for (const stored of await backend.keys.inspect(names.map(key), budget())) {
        expect(stored.value).toBe('x');
        expect(stored.ttlMs).toBeGreaterThan(0);
        expect(stored.ttlMs).toBeLessThanOrEqual(5000);
      }
      await sleep(expiresAt - backend.lifecycle.now() + 300);
      await expectGone(...names);
    });

    it('removeIfHolds deletes a session only while it holds the value given, else returns what it holds', async () => {
      await put('k', '{"user":"alice"}', 60_000);
      expect(await backend.keys.removeIfHolds(key('k'), '{"user":"bob"}', budget())).toBe(
        '{"user":"alice"}',
      );
      expect((await backend.keys.inspect([key('k')], budget()))[0].value).toBe('{"user":"alice"}');
      expect(await backend.keys.removeIfHolds(key('k'), '{"user":"alice"}', budget())).toBe(true);
      expect(await backend.keys.removeIfHolds(key('k'), '{"user":"alice"}', budget())).toBeNull();
      await expectGone('k');
    });

    it('inspect returns values and remaining TTLs in key order; a gone session is null with a negative TTL', async () => {
      await put('a', 'A', 60_000);
      await put('b', 'B', 200);
      await sleep(600);
      const [a, missing, b] = await backend.keys.inspect(
        [key('a'), key('missing'), key('b')],
        budget(),
      );
      expect(a.value).toBe('A');
      expect(a.ttlMs).toBeGreaterThan(50_000);
      expect(a.ttlMs).toBeLessThanOrEqual(60_000);
      for (const vanished of [missing, b]) {
        expect(vanished.value).toBeNull();
        expect(vanished.ttlMs).toBeLessThan(0);
      }
      expect(await backend.keys.inspect([], budget())).toEqual([]);
    });

    it('remove deletes sessions and says how many existed', async () => {
      await put('a', 'A', 60_000);
      await put('b', 'B', 60_000);
      expect(await backend.keys.remove([key('a'), key('missing'), key('b')], budget())).toBe(2);
      await expectGone('a', 'b');
      expect(await backend.keys.remove([], budget())).toBe(0);
    });

    it("removeMatching deletes a tenant's sessions and indexes only, taking glob characters in its prefixes literally", async () => {
      const templates = {
        keyPrefix: `${ns}sessions:{tenant}:{app}:`,
        indexPrefix: `${ns}sessions-index:{tenant}:{app}:`,
      };
      // Read as globs, the first tenant's prefixes would match each of the others.
      const target = new TenantKeys(templates, 'a*?[b]', 'shop');
      const neighbours = [
        new TenantKeys(templates, 'axyb', 'shop'),
        new TenantKeys(templates, 'a-b', 'shop'),
        new TenantKeys(templates, 'a*?[b]', 'shop2'),
      ];
      for (const keys of [target, ...neighbours]) {
        for (const sid of ['s1', 's2']) {
          await backend.keys.write(
            { key: keys.session(sid), value: '{}', ttlMs: 60_000, onlyIfExists: false },
            budget(),
          );
        }
        await admitted('s1', 60_000, 0, keys.index('alice'));
      }

      expect(await backend.keys.removeMatching(target.scanPatterns(), budget())).toBe(3);

      const sessions = (keys: TenantKeys) =>
        backend.keys.inspect([keys.session('s1'), keys.session('s2')], budget());
      expect((await sessions(target)).map((s) => s.value)).toEqual([null, null]);
      expect(await sids(target.index('alice'))).toEqual([]);
      for (const keys of neighbours) {
        expect((await sessions(keys)).map((s) => s.value)).toEqual(['{}', '{}']);
        expect(await sids(keys.index('alice'))).toEqual(['s1']);
      }
    });
  });

  describe('admit', () => {
    it('admits a login and returns a lease of now + leaseMs on the store clock', async () => {
      const before = Date.now();
      const admission = await backend.indexes.admit(
        indexKey(),
        'sid-a',
        60_000,
        ago(backend, 0),
        budget(),
      );
      expect(admission).toEqual({
        admitted: true,
        now: expect.any(Number),
        until: expect.any(Number),
        entries: 1,
      });
      if (!admission.admitted) return;
      expect(admission.until - admission.now).toBe(60_000);
      // The store's clock is this machine's here; the margin absorbs a busy event loop.
      expect(admission.now).toBeGreaterThanOrEqual(before - 1000);
      expect(admission.now).toBeLessThanOrEqual(Date.now() + 1000);
      expect(Math.abs(backend.lifecycle.now() - admission.now)).toBeLessThan(1000);
      expect(await backend.indexes.entries(indexKey(), false, budget())).toEqual([
        { sid: 'sid-a', until: admission.until },
      ]);
    });

    it("counts the user's entries with a live lease, its own included, never the not-before", async () => {
      await admitted('passed', 200);
      await admitted('a', 60_000);
      await backend.indexes.entries(indexKey(), true, budget());
      await sleep(600);
      await admitted('b', 60_000, 100);

      const admission = await backend.indexes.admit(
        indexKey(),
        'c',
        60_000,
        ago(backend, 0),
        budget(),
      );

      expect(admission).toMatchObject({ admitted: true, entries: 3 });
      expect(
        await backend.indexes.admit(indexKey(), 'c', 60_000, ago(backend, 0), budget()),
      ).toMatchObject({
        entries: 3,
      });
    });

    it("refuses a login that began before the user's last revocation, and indexes nothing", async () => {
      const loginBegan = performance.now();
      await sleep(100);
      await backend.indexes.entries(indexKey(), true, budget());

      expect(
        await backend.indexes.admit(
          indexKey(),
          'late',
          60_000,
          ago(backend, performance.now() - loginBegan),
          budget(),
        ),
      ).toEqual({ admitted: false });
      expect(await probe.members(indexKey())).toEqual([NOT_BEFORE_MEMBER]);
    });

    it('dates a login by the earlier of its two datings: a command that waited in transit cannot make a login look younger than a revocation', async () => {
      const loginBegan = backend.lifecycle.now();
      await sleep(100);
      await backend.indexes.entries(indexKey(), true, budget());
      // Sent "0 ms after the login began", but the login began before the revocation.
      const delayed = { agoMs: 0, at: loginBegan };
      expect(await backend.indexes.admit(indexKey(), 'delayed', 60_000, delayed, budget())).toEqual(
        {
          admitted: false,
        },
      );
      expect(await backend.indexes.confirm(indexKey(), 'delayed', delayed, budget())).toBe(false);
      // Either dating alone after the revocation is not enough: both must be.
      await sleep(100);
      const skewed = { agoMs: 1_000, at: backend.lifecycle.now() };
      expect(await backend.indexes.admit(indexKey(), 'skewed', 60_000, skewed, budget())).toEqual({
        admitted: false,
      });
      expect(await sids()).toEqual([]);
    });

    it("admits a login that began after the user's last revocation", async () => {
      await backend.indexes.entries(indexKey(), true, budget());
      await sleep(300);
      await admitted('after', 60_000, 100);
      expect(await sids()).toEqual(['after']);
    });

    it('refuses any login older than NOT_BEFORE_RETENTION_MS, even with no revocation recorded', async () => {
      expect(
        await backend.indexes.admit(
          indexKey(),
          'old',
          60_000,
          ago(backend, NOT_BEFORE_RETENTION_MS + 1),
          budget(),
        ),
      ).toEqual({ admitted: false });
      // Not for want of a not-before: a younger login is admitted.
      await admitted('young', 60_000, NOT_BEFORE_RETENTION_MS - 60_000);
      expect(await sids()).toEqual(['young']);
    });

    it("keeps a revocation's not-before after every entry is removed and every lease has passed", async () => {
      const loginBegan = performance.now();
      await sleep(100);
      await admitted('short', 300);
      await backend.indexes.entries(indexKey(), true, budget());
      await backend.indexes.unindex(indexKey(), ['short'], budget());
      expect(await probe.members(indexKey())).toEqual([NOT_BEFORE_MEMBER]);
      await sleep(700);

      expect(
        await backend.indexes.admit(
          indexKey(),
          'slow',
          60_000,
          ago(backend, performance.now() - loginBegan),
          budget(),
        ),
      ).toEqual({ admitted: false });
      expect(await probe.notBefore(indexKey())).not.toBeNull();
    });
  });

  describe('index key lifetime', () => {
    it('expires with its highest lease when no revocation was recorded', async () => {
      await admitted('a', 500);
      await admitted('b', 2000);
      const ttl = await probe.ttlMs(indexKey());
      expect(ttl).toBeGreaterThan(1000);
      expect(ttl).toBeLessThanOrEqual(2000);
      await sleep(2500);
      expect(await probe.ttlMs(indexKey())).toBeLessThan(0);
      expect(await probe.members(indexKey())).toEqual([]);
    });

    it('lives at least NOT_BEFORE_RETENTION_MS after a revocation, past its shorter leases', async () => {
      await admitted('a', 1000);
      await backend.indexes.entries(indexKey(), true, budget());
      const afterRevocation = await probe.ttlMs(indexKey());
      expect(afterRevocation).toBeGreaterThan(NOT_BEFORE_RETENTION_MS - 5000);
      // The not-before has sub-millisecond precision; the key's expiry rounds it up.
      expect(afterRevocation).toBeLessThanOrEqual(NOT_BEFORE_RETENTION_MS + 1);

      // Later writes recompute the TTL from the leases and the not-before together.
      await renew(backend, indexKey(), 'a', 2000, budget());
      expect(await probe.ttlMs(indexKey())).toBeGreaterThan(NOT_BEFORE_RETENTION_MS - 5000);
      await sleep(300);
      await admitted('long', NOT_BEFORE_RETENTION_MS + 60_000, 100);
      expect(await probe.ttlMs(indexKey())).toBeGreaterThan(NOT_BEFORE_RETENTION_MS + 55_000);
    });
  });

  describe('confirm', () => {
    it('is true for an admitted login with no revocation since it began', async () => {
      const began = performance.now();
      await admitted('a', 60_000);
      expect(
        await backend.indexes.confirm(
          indexKey(),
          'a',
          ago(backend, performance.now() - began),
          budget(),
        ),
      ).toBe(true);
    });

    it('is true for a login that began after the last revocation', async () => {
      await backend.indexes.entries(indexKey(), true, budget());
      await sleep(300);
      const began = performance.now();
      await admitted('b', 60_000);
      expect(
        await backend.indexes.confirm(
          indexKey(),
          'b',
          ago(backend, performance.now() - began),
          budget(),
        ),
      ).toBe(true);
    });

    it('is false once the user was revoked after the login began, though its entry remains', async () => {
      const began = performance.now();
      await admitted('a', 60_000);
      await sleep(100);
      await backend.indexes.entries(indexKey(), true, budget());
      expect(
        await backend.indexes.confirm(
          indexKey(),
          'a',
          ago(backend, performance.now() - began),
          budget(),
        ),
      ).toBe(false);
      expect(await sids()).toEqual(['a']);
    });

    it('is false when the entry was removed, or never indexed', async () => {
      const began = performance.now();
      await admitted('a', 60_000);
      await backend.indexes.unindex(indexKey(), ['a'], budget());
      expect(
        await backend.indexes.confirm(
          indexKey(),
          'a',
          ago(backend, performance.now() - began),
          budget(),
        ),
      ).toBe(false);
      expect(await backend.indexes.confirm(indexKey(), 'never', ago(backend, 0), budget())).toBe(
        false,
      );
    });
  });

  describe('lease', () => {
    it('raises a lease and never lowers it', async () => {
      const first = await admitted('a', 30_000);
      expect(await renew(backend, indexKey(), 'a', 10_000, budget())).toBe(first);
      expect(await backend.indexes.entries(indexKey(), false, budget())).toEqual([
        { sid: 'a', until: first },
      ]);

      const raised = (await renew(backend, indexKey(), 'a', 60_000, budget()))!;
      expect(raised - first).toBeGreaterThanOrEqual(30_000);
      expect(raised - first).toBeLessThan(40_000);
      expect(await backend.indexes.entries(indexKey(), false, budget())).toEqual([
        { sid: 'a', until: raised },
      ]);
    });

    it('never adds back an entry that is gone: removed, past its lease, or never admitted', async () => {
      await admitted('removed', 60_000);
      await backend.indexes.unindex(indexKey(), ['removed'], budget());
      await admitted('short', 200);
      await sleep(500);
      for (const sid of ['removed', 'short', 'never']) {
        expect(await renew(backend, indexKey(), sid, 60_000, budget())).toBeUndefined();
      }
      expect(await sids()).toEqual([]);
    });

    it('extends only a lease with less than renewBelowMs left, and reports it either way', async () => {
      const first = await admitted('a', 30_000);
      expect(await backend.indexes.lease(indexKey(), 'a', 60_000, 20_000, budget())).toBe(first);
      const raised = (await backend.indexes.lease(indexKey(), 'a', 60_000, 40_000, budget()))!;
      expect(raised - first).toBeGreaterThanOrEqual(29_000);
      expect(await backend.indexes.lease(indexKey(), 'a', 0, 0, budget())).toBe(raised);
    });

    it('drops entries whose lease passed and keeps the not-before', async () => {
      await admitted('short', 300);
      await admitted('long', 60_000);
      await backend.indexes.entries(indexKey(), true, budget());
      const notBefore = await probe.notBefore(indexKey());
      await sleep(700);

      await renew(backend, indexKey(), 'long', 60_000, budget());

      expect((await probe.members(indexKey())).sort()).toEqual(['long', NOT_BEFORE_MEMBER].sort());
      expect(await probe.notBefore(indexKey())).toBe(notBefore);
    });
  });

  describe('entries', () => {
    it('lists live entries, oldest lease first, and records no revocation', async () => {
      await admitted('c', 30_000);
      await admitted('a', 10_000);
      await admitted('b', 20_000);
      await admitted('passed', 200);
      await sleep(600);

      const entries = await backend.indexes.entries(indexKey(), false, budget());
      expect(entries.map((e) => e.sid)).toEqual(['a', 'b', 'c']);
      expect(entries.map((e) => e.until)).toEqual([...entries.map((e) => e.until)].sort());
      expect(await probe.notBefore(indexKey())).toBeNull();
      // A login that began before the listing is still admitted.
      await admitted('d', 60_000, 60_000);
    });

    it('with revoking, records a not-before of now and lists the entries it leaves in place', async () => {
      await admitted('a', 60_000);
      const before = backend.lifecycle.now();
      const entries = await backend.indexes.entries(indexKey(), true, budget());
      const after = backend.lifecycle.now();

      expect(entries.map((e) => e.sid)).toEqual(['a']);
      const notBefore = await probe.notBefore(indexKey());
      expect(notBefore).toBeGreaterThanOrEqual(before - 1000);
      expect(notBefore).toBeLessThanOrEqual(after + 1000);
    });

    it('never lists the not-before member', async () => {
      await backend.indexes.entries(indexKey(), true, budget());
      expect(await probe.members(indexKey())).toEqual([NOT_BEFORE_MEMBER]);
      expect(await backend.indexes.entries(indexKey(), false, budget())).toEqual([]);
      expect(await backend.indexes.entries(indexKey(), true, budget())).toEqual([]);
      await sleep(300);
      await admitted('a', 60_000, 100);
      expect(await sids()).toEqual(['a']);
    });

    it('moves the not-before forward, never back', async () => {
      await backend.indexes.entries(indexKey(), true, budget());
      const first = (await probe.notBefore(indexKey()))!;
      await sleep(100);
      await backend.indexes.entries(indexKey(), true, budget());
      expect(await probe.notBefore(indexKey())).toBeGreaterThan(first);

      // As recorded by a store whose clock ran a minute ahead (a failover, say).
      const ahead = backend.lifecycle.now() + 60_000;
      await probe.plantNotBefore(indexKey(), ahead);
      await backend.indexes.entries(indexKey(), true, budget());
      expect(await probe.notBefore(indexKey())).toBe(ahead);
      expect(
        await backend.indexes.admit(indexKey(), 'now', 60_000, ago(backend, 0), budget()),
      ).toEqual({
        admitted: false,
      });
    });
  });

  describe('page', () => {
    /** Every page from the first on, `limit` entries each; fails past `maxPages`. */
    const walk = async (limit: number, index = indexKey(), maxPages = 50) => {
      const pages: IndexPage[] = [];
      let after: IndexPosition | undefined;
      do {
        const page = await backend.indexes.page(index, after, limit, budget());
        pages.push(page);
        after = page.next;
        if (pages.length > maxPages) throw new Error('the walk does not end');
      } while (after);
      return pages;
    };
    const pagedSids = (pages: IndexPage[]) => pages.flatMap((p) => p.entries.map((e) => e.sid));

    it('pages live entries earliest lease first, with how many there are, until a page has no next', async () => {
      for (const [i, sid] of ['e', 'b', 'd', 'a', 'c'].entries()) {
        await admitted(sid, 10_000 * ('abcde'.indexOf(sid) + 1) + i);
      }

      const pages = await walk(2);

      expect(pages.map((p) => p.entries.map((e) => e.sid))).toEqual([
        ['a', 'b'],
        ['c', 'd'],
        ['e'],
      ]);
      expect(pages.map((p) => p.total)).toEqual([5, 5, 5]);
      expect(pages.map((p) => p.next === undefined)).toEqual([false, false, true]);
      const leases = pagedSids(pages).map((sid, i) => pages.flatMap((p) => p.entries)[i].until);
      expect(leases).toEqual([...leases].sort((x, y) => x - y));
      expect(await backend.indexes.page(indexKey(), undefined, 5, budget())).toMatchObject({
        total: 5,
        next: undefined,
      });
    });

    it('an empty or missing index is one empty last page', async () => {
      expect(await backend.indexes.page(indexKey('nobody'), undefined, 10, budget())).toEqual({
        entries: [],
        total: 0,
        next: undefined,
      });
    });

    it('splits entries sharing one lease across pages, each paged exactly once', async () => {
      const until = backend.lifecycle.now() + 60_000;
      const sids = Array.from({ length: 7 }, (_, i) => `same-${i}`);
      for (const sid of sids) await probe.plantEntry(indexKey(), sid, until);
      await admitted('later', 120_000);

      const pages = await walk(3);

      expect(pages.map((p) => p.entries.length)).toEqual([3, 3, 2]);
      expect(pagedSids(pages).sort()).toEqual([...sids, 'later'].sort());
      expect(pagedSids(pages).at(-1)).toBe('later');
    });

    it('never pages the not-before member or an entry whose lease passed, nor counts them', async () => {
      await admitted('passed', 200);
      await backend.indexes.entries(indexKey(), true, budget());
      await sleep(600);
      await admitted('a', 60_000, 100);
      // As recorded by a store whose clock ran a minute ahead: a not-before in the future.
      const otherIndex = indexKey('bob');
      await admitted('b', 60_000, 0, otherIndex);
      await probe.plantNotBefore(otherIndex, backend.lifecycle.now() + 60_000);

      expect(await backend.indexes.page(indexKey(), undefined, 10, budget())).toEqual({
        entries: [{ sid: 'a', until: expect.any(Number) }],
        total: 1,
        next: undefined,
      });
      expect(await backend.indexes.page(otherIndex, undefined, 1, budget())).toEqual({
        entries: [{ sid: 'b', until: expect.any(Number) }],
        total: 1,
        next: undefined,
      });
    });

    it('writes nothing: the index keeps its members and its TTL', async () => {
      await admitted('passed', 200);
      await admitted('a', 60_000);
      await sleep(400);
      const ttlBefore = await probe.ttlMs(indexKey());

      await walk(1);

      expect((await probe.members(indexKey())).sort()).toEqual(['a', 'passed']);
      expect(await probe.ttlMs(indexKey())).toBeLessThanOrEqual(ttlBefore);
    });

    it('a position stays good after its entry is gone, and nothing present throughout is skipped', async () => {
      for (const [i, sid] of ['a', 'b', 'c', 'd'].entries()) await admitted(sid, 10_000 * (i + 1));
      const first = await backend.indexes.page(indexKey(), undefined, 2, budget());
      expect(first.entries.map((e) => e.sid)).toEqual(['a', 'b']);

      await backend.indexes.unindex(indexKey(), ['b'], budget());
      const second = await backend.indexes.page(indexKey(), first.next, 2, budget());

      expect(second.entries.map((e) => e.sid)).toEqual(['c', 'd']);
      expect(second).toMatchObject({ total: 3, next: undefined });
    });

    it('an entry renewed during a walk is paged again later; the others once each', async () => {
      for (const [i, sid] of ['a', 'b', 'c', 'd'].entries()) await admitted(sid, 10_000 * (i + 1));
      const first = await backend.indexes.page(indexKey(), undefined, 2, budget());

      await renew(backend, indexKey(), 'a', 120_000, budget());
      const rest = await backend.indexes.page(indexKey(), first.next, 10, budget());

      expect([...first.entries, ...rest.entries].map((e) => e.sid)).toEqual([
        'a',
        'b',
        'c',
        'd',
        'a',
      ]);
    });
  });

  describe('unindex', () => {
    it('removes only the given entries; an absent one is no error', async () => {
      await admitted('a', 60_000);
      await admitted('b', 60_000);
      await backend.indexes.unindex(indexKey(), ['a', 'never'], budget());
      expect(await sids()).toEqual(['b']);
      await backend.indexes.unindex(indexKey('nobody'), ['a'], budget());
      await backend.indexes.unindex(indexKey(), [], budget());
      expect(await sids()).toEqual(['b']);
    });
  });

  describe('budgets', () => {
    it('a call whose budget is already spent fails with 503 and changes nothing', async () => {
      await put('k', 'v', 60_000);
      const until = await admitted('a', 60_000);

      expect(
        await outcomes(
          {
            load: () => loadValue(backend, key('k'), 1000, spentBudget()),
            expire: () => backend.keys.expire(key('k'), { ttlMs: 1000 }, spentBudget()),
            write: () =>
              backend.keys.write({ key: key('k'), value: 'x', onlyIfExists: false }, spentBudget()),
            'write new': () =>
              backend.keys.write(
                { key: key('new'), value: 'x', ttlMs: 60_000, onlyIfExists: false },
                spentBudget(),
              ),
            removeIfHolds: () => backend.keys.removeIfHolds(key('k'), 'x', spentBudget()),
            inspect: () => backend.keys.inspect([key('k')], spentBudget()),
            remove: () => backend.keys.remove([key('k')], spentBudget()),
            removeMatching: () => backend.keys.removeMatching([`${ns}*`], spentBudget()),
            admit: () =>
              backend.indexes.admit(indexKey(), 'b', 60_000, ago(backend, 0), spentBudget()),
            confirm: () => backend.indexes.confirm(indexKey(), 'a', ago(backend, 0), spentBudget()),
            renew: () => renew(backend, indexKey(), 'a', 120_000, spentBudget()),
            entries: () => backend.indexes.entries(indexKey(), false, spentBudget()),
            page: () => backend.indexes.page(indexKey(), undefined, 10, spentBudget()),
            'entries revoking': () => backend.indexes.entries(indexKey(), true, spentBudget()),
            unindex: () => backend.indexes.unindex(indexKey(), ['a'], spentBudget()),
          },
          { reasons: false },
        ),
      ).toEqual({
        load: '503',
        expire: '503',
        write: '503',
        'write new': '503',
        removeIfHolds: '503',
        inspect: '503',
        remove: '503',
        removeMatching: '503',
        admit: '503',
        confirm: '503',
        renew: '503',
        entries: '503',
        page: '503',
        'entries revoking': '503',
        unindex: '503',
      });

      const [k, created] = await backend.keys.inspect([key('k'), key('new')], budget());
      expect(k.value).toBe('v');
      expect(k.ttlMs).toBeGreaterThan(50_000);
      expect(created.value).toBeNull();
      expect(await probe.members(indexKey())).toEqual(['a']);
      expect(await backend.indexes.entries(indexKey(), false, budget())).toEqual([
        { sid: 'a', until },
      ]);
    });

    it('a call spends from its budget no more than it waited', async () => {
      const shared = new OperationBudget(5000);
      const started = performance.now();
      await put('k', 'v', 60_000);
      await loadValue(backend, key('k'), 60_000, shared);
      await backend.indexes.admit(indexKey(), 'a', 60_000, ago(backend, 0), shared);
      await backend.indexes.entries(indexKey(), false, shared);
      const elapsed = performance.now() - started;

      const spent = shared.limitMs - shared.remainingMs;
      expect(spent).toBeGreaterThanOrEqual(0);
      expect(spent).toBeLessThanOrEqual(elapsed);
    });
  });

  it('ready answers true for a backend that can serve', async () => {
    expect(await backend.lifecycle.ready(1000)).toBe(true);
  });
});

describe('RedisSessionBackend beyond the contract', () => {
  let fixture: ContractBackend & { redis: Redis };
  let ns: string;

  describe('wrong key types (shared test server)', () => {
    beforeEach(async () => {
      fixture = await redisBackend(process.env.TEST_REDIS_URL!);
      ns = `contract:${randomId()}:`;
    });
    afterEach(() => fixture.close());

    it('a session key of another type surfaces as WrongTypeError from load, removeIfHolds and inspect, and is left alone', async () => {
      const { backend, redis } = fixture;
      const sessionKey = `${ns}sessions:hash`;
      await redis.hset(sessionKey, 'field', 'value');
      await redis.pexpire(sessionKey, 60_000);

      expect(
        await outcomes({
          load: () => loadValue(backend, sessionKey, 1000, budget()),
          removeIfHolds: () => backend.keys.removeIfHolds(sessionKey, 'value', budget()),
          inspect: () => backend.keys.inspect([sessionKey], budget()),
        }),
      ).toEqual({
        load: 'WrongTypeError',
        removeIfHolds: 'WrongTypeError',
        inspect: 'WrongTypeError',
      });
      expect(await redis.hgetall(sessionKey)).toEqual({ field: 'value' });
      expect(await redis.pttl(sessionKey)).toBeGreaterThan(50_000);
    });

    it('an index key of another type surfaces as WrongTypeError from admit, confirm, renew, entries, page and unindex', async () => {
      const { backend, redis } = fixture;
      const index = `${ns}sessions-index:alice`;
      await redis.set(index, 'not a sorted set', 'PX', 60_000);

      expect(
        await outcomes({
          admit: () => backend.indexes.admit(index, 'a', 60_000, ago(backend, 0), budget()),
          confirm: () => backend.indexes.confirm(index, 'a', ago(backend, 0), budget()),
          renew: () => renew(backend, index, 'a', 60_000, budget()),
          entries: () => backend.indexes.entries(index, false, budget()),
          'entries revoking': () => backend.indexes.entries(index, true, budget()),
          page: () => backend.indexes.page(index, undefined, 10, budget()),
          unindex: () => backend.indexes.unindex(index, ['a'], budget()),
        }),
      ).toEqual({
        admit: 'WrongTypeError',
        confirm: 'WrongTypeError',
        renew: 'WrongTypeError',
        entries: 'WrongTypeError',
        'entries revoking': 'WrongTypeError',
        page: 'WrongTypeError',
        unindex: 'WrongTypeError',
      });
      expect(await redis.get(index)).toBe('not a sorted set');
    });
  });

  describe('budgets, stalls and error replies (a server of its own)', () => {
    let server: RedisServer;
    let monitor: CommandMonitor;

    beforeAll(async () => {
      server = await startRedisServer();
    });
    afterAll(() => server.stop());
    beforeEach(async () => {
      fixture = await redisBackend(server.url);
      await fixture.redis.ping();
      ns = `contract:${randomId()}:`;
    });
    afterEach(async () => {
      monitor?.close();
      server.resume();
      const { redis } = fixture;
      await redis.config('SET', 'maxmemory', '0');
      await redis.config('SET', 'min-replicas-to-write', '0');
      await redis.replicaof('NO', 'ONE');
      await fixture.close();
    });

    /** Starts watching: from now on, `monitor.commands()` lists every command the server runs. */
    const watch = async () => {
      monitor = await CommandMonitor.open(server.url);
      await monitor.barrier();
      monitor.reset();
    };

    it('a call whose budget is already spent sends no command at all (MONITOR)', async () => {
      const { backend } = fixture;
      const sessionKey = `${ns}sessions:k`;
      const index = `${ns}sessions-index:alice`;
      await watch();

      const refused = await outcomes({
        load: () => loadValue(backend, sessionKey, 1000, spentBudget()),
        expire: () => backend.keys.expire(sessionKey, { ttlMs: 1000 }, spentBudget()),
        write: () =>
          backend.keys.write({ key: sessionKey, value: 'x', onlyIfExists: false }, spentBudget()),
        removeIfHolds: () => backend.keys.removeIfHolds(sessionKey, 'x', spentBudget()),
        inspect: () => backend.keys.inspect([sessionKey], spentBudget()),
        remove: () => backend.keys.remove([sessionKey], spentBudget()),
        removeMatching: () => backend.keys.removeMatching([`${ns}*`], spentBudget()),
        admit: () => backend.indexes.admit(index, 'b', 60_000, ago(backend, 0), spentBudget()),
        confirm: () => backend.indexes.confirm(index, 'a', ago(backend, 0), spentBudget()),
        renew: () => renew(backend, index, 'a', 60_000, spentBudget()),
        entries: () => backend.indexes.entries(index, true, spentBudget()),
        unindex: () => backend.indexes.unindex(index, ['a'], spentBudget()),
      });
      await monitor.barrier();

      expect(new Set(Object.values(refused))).toEqual(new Set(['503: Redis timed out']));
      expect(monitor.commands()).toEqual([]);
      // The same call with budget left is seen: the monitor was watching.
      await loadValue(backend, sessionKey, 1000, budget());
      await monitor.barrier();
      expect(monitor.commands()).toEqual([`getex ${sessionKey}`]);
    });

    it('a stalled call fails with 503 when its budget runs out, and the next step of that work sends nothing', async () => {
      const { backend } = fixture;
      const work = new OperationBudget(400);
      server.pause();
      const started = performance.now();
      const stalled = await outcomes({
        load: () => loadValue(backend, `${ns}sessions:stalled`, 60_000, work),
      });
      const elapsed = performance.now() - started;
      server.resume();

      expect(stalled).toEqual({ load: '503: Redis timed out' });
      expect(elapsed).toBeGreaterThanOrEqual(390);
      expect(elapsed).toBeLessThan(3000);
      expect(work.remainingMs).toBeLessThanOrEqual(0);

      await watch();
      const next = `${ns}sessions:next`;
      expect(
        await outcomes({
          write: () => backend.keys.write({ key: next, value: '{}', onlyIfExists: false }, work),
        }),
      ).toEqual({ write: '503: Redis timed out' });
      await monitor.barrier();
      expect(monitor.commands().filter((line) => line.includes(next))).toEqual([]);
      expect(await fixture.redis.exists(next)).toBe(0);
    });

    it('a call spends from its budget what it waited on a stalled server', async () => {
      const { backend } = fixture;
      await backend.keys.write(
        { key: `${ns}sessions:k`, value: 'v', ttlMs: 60_000, onlyIfExists: false },
        budget(),
      );
      const work = new OperationBudget(5000);
      server.pause();
      const resume = setTimeout(() => server.resume(), 400);
      const started = performance.now();
      expect(await loadValue(backend, `${ns}sessions:k`, 60_000, work)).toBe('v');
      const elapsed = performance.now() - started;
      clearTimeout(resume);

      const spent = work.limitMs - work.remainingMs;
      expect(spent).toBeGreaterThanOrEqual(350);
      expect(spent).toBeLessThanOrEqual(elapsed);
    });

    /** Fails the test if `error` shows any of `secrets` in its reason, message or response. */
    const expectNoData = (error: SessionStoreUnavailableException, secrets: string[]) => {
      const shown = JSON.stringify([error.reason, error.message, error.getResponse()]);
      for (const secret of secrets) expect(shown).not.toContain(secret);
    };

    it.each([
      [
        'out of memory (noeviction)',
        ['maxmemory', '1'],
        '503: Redis is out of memory (maxmemory reached, policy noeviction)',
      ],
      [
        'too few replicas',
        ['min-replicas-to-write', '1'],
        '503: not enough replicas acknowledged the write (min-replicas-to-write)',
      ],
    ])(
      'a session write refused by Redis (%s) surfaces as 503 whose reason names the failure, never the key or the value',
      async (_, [parameter, value], outcome) => {
        const { backend, redis } = fixture;
        const sid = `SID${randomId()}`;
        const sessionKey = `${ns}sessions:${sid}`;
        const json = `{"secret":"VALUE${randomId()}"}`;
        await redis.config('SET', parameter, value);

        const failure = await backend.keys
          .write({ key: sessionKey, value: json, ttlMs: 60_000, onlyIfExists: false }, budget())
          .then(
            () => undefined,
            (error: unknown) => error,
          );

        expect(failure).toBeInstanceOf(SessionStoreUnavailableException);
        const unavailable = failure as SessionStoreUnavailableException;
        expect(`503: ${unavailable.reason}`).toBe(outcome);
        expectNoData(unavailable, [sid, json, 'VALUE', ns]);
        expect(await redis.exists(sessionKey)).toBe(0);
      },
    );

    it('an index write refused by Redis (too few replicas) surfaces as 503 that never names the key or the user', async () => {
      const { backend, redis } = fixture;
      const user = `USER${randomId()}`;
      const index = `${ns}sessions-index:${user}`;
      await redis.config('SET', 'min-replicas-to-write', '1');

      const refused = await backend.indexes
        .admit(index, 'a', 60_000, ago(backend, 0), budget())
        .then(
          () => undefined,
          (error: unknown) => error,
        );

      expect(refused).toBeInstanceOf(SessionStoreUnavailableException);
      expect((refused as SessionStoreUnavailableException).reason).toBe(
        'not enough replicas acknowledged the write (min-replicas-to-write)',
      );
      expectNoData(refused as SessionStoreUnavailableException, [user, ns]);
      expect(await redis.exists(index)).toBe(0);
    });

    it('on a full Redis (noeviction), session writes fail with 503 but a revocation still records its not-before', async () => {
      const { backend, redis, probe } = fixture;
      const index = `${ns}sessions-index:alice`;
      expect(
        await backend.indexes.admit(index, 'a', 60_000, ago(backend, 0), budget()),
      ).toMatchObject({
        admitted: true,
      });
      await redis.config('SET', 'maxmemory', '1');

      expect(
        await outcomes({
          write: () =>
            backend.keys.write(
              { key: `${ns}sessions:k`, value: '{}', ttlMs: 60_000, onlyIfExists: false },
              budget(),
            ),
          'entries revoking': () => backend.indexes.entries(index, true, budget()),
        }),
      ).toEqual({
        write: '503: Redis is out of memory (maxmemory reached, policy noeviction)',
        'entries revoking': 'ok',
      });
      expect(await probe.notBefore(index)).not.toBeNull();
    });

    it('a read-only replica (failover in progress) surfaces as 503 that says so', async () => {
      const { backend, redis } = fixture;
      await redis.replicaof('127.0.0.1', await freePort());
      expect(
        await outcomes({
          write: () =>
            backend.keys.write(
              { key: `${ns}sessions:k`, value: '{}', ttlMs: 60_000, onlyIfExists: false },
              budget(),
            ),
          admit: () =>
            backend.indexes.admit(
              `${ns}sessions-index:alice`,
              'a',
              60_000,
              ago(backend, 0),
              budget(),
            ),
          'entries revoking': () =>
            backend.indexes.entries(`${ns}sessions-index:alice`, true, budget()),
        }),
      ).toEqual({
        write: '503: Redis is a read-only replica (failover in progress?)',
        admit: '503: Redis is a read-only replica (failover in progress?)',
        'entries revoking': '503: Redis is a read-only replica (failover in progress?)',
      });
    });
  });
});

describe.each([
  ['Redis', () => process.env.TEST_REDIS_URL],
  ['in-process memory', () => undefined],
])('module behaviour over HTTP: %s', (_, redisUrl) => {
  let t: TestApp;
  afterEach(() => t.close());
  const start = async (idleTtl = 3600) => {
    t = await createTestApp({
      appName: `contract-${randomId()}`,
      redis: redisUrl(),
      idleTtl,
    });
  };

  it('logs in, guards, isolates tenants and logs out', async () => {
    await start();
    const browser = new Visitor(t.http, 'acme.test');
    expect((await browser.get('/me')).status).toBe(401);
    await browser.post('/login', { user: 'alice' });
    expect((await browser.get('/me')).body).toEqual({ user: 'alice', tenant: 'acme', count: 0 });
    expect((await new Visitor(t.http, 'globex.test', 'x', browser.cookies).get('/me')).status).toBe(
      401,
    );
    const stale = new Map(browser.cookies);
    await browser.post('/logout');
    expect((await new Visitor(t.http, 'acme.test', 'x', stale).get('/me')).status).toBe(401);
  });

  it('expires idle sessions and drops them from listings', async () => {
    await start(1);
    const browser = new Visitor(t.http, 'acme.test');
    await browser.post('/login', { user: 'alice' });
    expect((await t.sessions.list('acme', 'alice')).sessions).toHaveLength(1);
    await sleep(1500);
    expect((await browser.get('/me')).status).toBe(401);
    expect((await t.sessions.list('acme', 'alice')).sessions).toEqual([]);
  });

  it('revokes all, revokes others, and never acknowledges a write to a revoked session', async () => {
    await start();
    const laptop = new Visitor(t.http, 'acme.test');
    const phone = new Visitor(t.http, 'acme.test');
    await laptop.post('/login', { user: 'alice' });
    await phone.post('/login', { user: 'alice' });
    expect((await laptop.post('/sessions/revoke-others')).body).toEqual({ revoked: 1 });
    expect((await phone.get('/me')).status).toBe(401);

    const inFlight = laptop.post('/increment?delayMs=500');
    await sleep(150);
    expect(await t.sessions.revokeAll('acme', 'alice')).toBe(1);
    expect((await inFlight).status).toBe(401);
    expect((await laptop.get('/me')).status).toBe(401);
    expect((await t.sessions.list('acme', 'alice')).sessions).toEqual([]);
  });
});
