import fc from 'fast-check';
import { Redis } from 'ioredis';
import { RedisBackend } from '../../lib/store/redis/redis-backend.js';
import { SessionTelemetry } from '../../lib/telemetry/session-telemetry.js';
import type { SessionBackend } from '../../lib/store/session-backend.interface.js';
import { memoryProbe, type IndexProbe } from '../support/contract-backends.js';
import { everySchedule, runSchedule, type Actor } from '../support/model/explorer.js';
import { Gate, type HeldStep } from '../support/model/gate.js';
import {
  listingUnindexes,
  readsIgnoreTheIndex,
  renewalReadmits,
  takeThenUnindex,
  together,
} from '../support/model/old-protocol.js';
import { ProtocolWorld, type ProtocolVariant } from '../support/model/protocol-world.js';
import { ReplicatedMemory } from '../support/model/replicated-memory.js';
import { useOwnRedisServer } from '../support/own-redis.js';

/**
 * The revocation invariant (docs/guarantees.md), checked mechanically: the protocol's
 * operations are the module's own code (store, index, revocation service) on a backend whose
 * every call is held at a gate, so a test decides the order in which concurrent operations'
 * steps reach the store. After every step the invariant is checked (ProtocolWorld: S1–S3), and
 * once all are over, that nothing legitimate was lost (L1, L2).
 *
 * - Exhaustively: every schedule of small scenarios on the in-process backend (with a replica
 *   that a failover promotes).
 * - At random: fast-check generates scenarios and schedules, run on the in-process backend and
 *   on a real Redis alike, and shrinks any failure to a minimal one.
 * - Against 0.4.1: with one of its protocol steps swapped back in, the same model finds the bug
 *   issue 18 reported (items 1–3); against 1.0.0's logout, the cross-instance double logout.
 */

type Operation =
  | { op: 'login'; user: string; sid: string }
  | { op: 'read' | 'renew' | 'writeBack' | 'logout' | 'logoutOther' | 'expire'; sid: string }
  | { op: 'list' | 'listOld' | 'revokeAll'; user: string }
  | { op: 'cap'; user: string; cap: number }
  | { op: 'failover' };

/** Sessions logged in before a scenario's operations start. */
interface Scenario {
  setup: { user: string; sid: string }[];
  operations: Operation[];
}

interface Backends {
  raw: SessionBackend;
  probe: () => IndexProbe;
  failover?: () => Promise<void>;
  appName: string;
  close(): Promise<void>;
}

const inMemory = async (): Promise<Backends> => {
  const memory = new ReplicatedMemory();
  return {
    raw: memory.backend,
    probe: () => memoryProbe(memory.current),
    failover: () => memory.failover(),
    appName: 'model',
    close: () => memory.close(),
  };
};

function actorFor(world: ProtocolWorld, operation: Operation, i: number): Actor {
  const name = `${i}:${label(operation)}`;
  const start = (): Promise<void> => {
    switch (operation.op) {
      case 'login':
        return world.login(operation.user, operation.sid);
      case 'read':
        return world.read(operation.sid);
      case 'renew':
        return world.renew(operation.sid);
      case 'writeBack':
        return world.writeBack(operation.sid);
      case 'logout':
        return world.logout(operation.sid);
      case 'logoutOther':
        return world.logout(operation.sid, 'other');
      case 'expire':
        return world.expire(operation.sid);
      case 'list':
        return world.list(operation.user);
      case 'listOld':
        return world.list(operation.user, 'old');
      case 'revokeAll':
        return world.revokeAll(operation.user);
      case 'cap':
        return world.cap(operation.user, operation.cap);
      case 'failover':
        return world.failover();
    }
  };
  return { name, start };
}

function label(operation: Operation): string {
  const { op, ...args } = operation;
  return `${op}(${Object.values(args).join(', ')})`;
}

/** Runs one schedule of the scenario on fresh backends; returns the violations it saw. */
async function runOnce(
  scenario: Scenario,
  backends: Backends,
  choose: (held: readonly HeldStep[]) => number,
  variant?: (backends: Backends) => ProtocolVariant,
): Promise<ProtocolWorld> {
  const gate = new Gate();
  const world = new ProtocolWorld(
    backends.appName,
    backends.raw,
    gate,
    variant?.(backends),
    backends.failover,
  );
  for (const { user, sid } of scenario.setup) await world.login(user, sid);
  const actors = scenario.operations.map((operation, i) => actorFor(world, operation, i));
  await runSchedule(gate, actors, choose, () => world.checkSafety(), world.trace);
  await world.checkLiveness();
  return world;
}

/**
 * Every schedule; the first violation found (undefined: none), or with `until` the first that
 * matches it (exploring stops there), and how many schedules ran.
 */
async function explore(
  scenario: Scenario,
  variant?: (backends: Backends) => ProtocolVariant,
  until?: RegExp,
): Promise<{ schedules: number; first?: string; violations: number }> {
  let first: string | undefined;
  let violations = 0;
  const schedules = await everySchedule(async (choose) => {
    if (until && first) return;
    const backends = await inMemory();
    try {
      const world = await runOnce(scenario, backends, choose, variant);
      violations += world.violations.length;
      const found = world.violations
        .map((v) => `${v.rule}: ${v.detail}`)
        .filter((text) => !until || until.test(text));
      first ??= found[0];
    } finally {
      await backends.close();
    }
  });
  return { schedules, first, violations };
}

const ALICE_TWICE = [
  { user: 'alice', sid: 's1' },
  { user: 'alice', sid: 's2' },
];

/** Small scenarios that together take every operation of the protocol through every order. */
const SCENARIOS: Record<string, Scenario> = {
  'a login in flight and a listing': {
    setup: [{ user: 'alice', sid: 's1' }],
    operations: [
      { op: 'login', user: 'alice', sid: 'n1' },
      { op: 'list', user: 'alice' },
    ],
  },
  'a login in flight, a listing and a password change (revokeAll)': {
    setup: [{ user: 'alice', sid: 's1' }],
    operations: [
      { op: 'login', user: 'alice', sid: 'n1' },
      { op: 'list', user: 'alice' },
      { op: 'revokeAll', user: 'alice' },
    ],
  },
  'a plain service writing back across a revocation, then a read': {
    setup: [{ user: 'alice', sid: 's1' }],
    operations: [
      { op: 'writeBack', sid: 's1' },
      { op: 'revokeAll', user: 'alice' },
      { op: 'read', sid: 's1' },
    ],
  },
  'a write-back and a lease renewal across a revocation': {
    setup: [{ user: 'alice', sid: 's1' }],
    operations: [
      { op: 'writeBack', sid: 's1' },
      { op: 'revokeAll', user: 'alice' },
      { op: 'renew', sid: 's1' },
    ],
  },
  'an instance on the old secret listing a user a revocation then signs out': {
    setup: [{ user: 'alice', sid: 's1' }],
    operations: [
      { op: 'login', user: 'alice', sid: 'n1' },
      { op: 'listOld', user: 'alice' },
      { op: 'revokeAll', user: 'alice' },
    ],
  },
  'the session cap applied while another login is in flight': {
    setup: ALICE_TWICE,
    operations: [
      { op: 'login', user: 'alice', sid: 'n1' },
      { op: 'cap', user: 'alice', cap: 1 },
      { op: 'read', sid: 's2' },
    ],
  },
  'two users, three sessions: a logout, a login and a revocation': {
    setup: [
      { user: 'alice', sid: 's1' },
      { user: 'bob', sid: 's2' },
    ],
    operations: [
      { op: 'logout', sid: 's1' },
      { op: 'login', user: 'alice', sid: 'n1' },
      { op: 'revokeAll', user: 'alice' },
    ],
  },
  'an expiry and a write-back of the expired session around a read': {
    setup: [{ user: 'alice', sid: 's1' }],
    operations: [
      { op: 'writeBack', sid: 's1' },
      { op: 'expire', sid: 's1' },
      { op: 'read', sid: 's1' },
    ],
  },
  // Found by the fast-check run: the second logout found the key gone and was acknowledged
  // while the first had not yet removed the index entry, so a write-back brought it to serve.
  'two logouts of one session and a plain service writing it back': {
    setup: [{ user: 'alice', sid: 's1' }],
    operations: [
      { op: 'writeBack', sid: 's1' },
      { op: 'logout', sid: 's1' },
      { op: 'logout', sid: 's1' },
    ],
  },
  // The same across instances: the second logout, elsewhere, knew nothing of the first one's
  // entry; the entry now goes before the key, so neither answers while it is still there.
  'two logouts of one session on two instances and a plain service writing it back': {
    setup: [{ user: 'alice', sid: 's1' }],
    operations: [
      { op: 'writeBack', sid: 's1' },
      { op: 'logout', sid: 's1' },
      { op: 'logoutOther', sid: 's1' },
    ],
  },
  'a failover losing the last writes around a revocation and a login': {
    setup: [{ user: 'alice', sid: 's1' }],
    operations: [
      { op: 'login', user: 'alice', sid: 'n1' },
      { op: 'revokeAll', user: 'alice' },
      { op: 'failover' },
    ],
  },
};

describe('the revocation invariant, model-checked', () => {
  describe('every schedule of small scenarios (in-process backend with a replica)', () => {
    it.each(Object.entries(SCENARIOS))(
      'holds for %s',
      async (_, scenario) => {
        const { schedules, first, violations } = await explore(scenario);
        expect(first).toBeUndefined();
        expect(violations).toBe(0);
        // The exploration is not vacuous: it went through many orders.
        expect(schedules).toBeGreaterThan(10);
        // The largest (two users, three sessions) runs 13,884 schedules: 20-45 s on a busy machine.
      },
      120_000,
    );
  });

  describe('with a protocol step of 0.4.1 swapped back in, the model finds its bug', () => {
    it("item 1: with 0.4.1's listing and reads, a login in flight survives a password change", async () => {
      const found = await explore(
        SCENARIOS['a login in flight, a listing and a password change (revokeAll)'],
        () => together(listingUnindexes, readsIgnoreTheIndex),
        /^S1: n1 serves alice after an acknowledged revokeAll/,
      );
      expect(found.first).toMatch(/^S1: n1 serves alice after an acknowledged revokeAll/);
    });

    it("item 1: 0.4.1's listing alone unindexes a login in flight (logged out, or refused)", async () => {
      const found = await explore(
        SCENARIOS['a login in flight and a listing'],
        () => listingUnindexes,
        /^(L1|L2): n1's/,
      );
      expect(found.first).toMatch(/^(L1|L2): n1's/);
    });

    it("item 2: 0.4.1's lease renewal re-admits a session a revocation removed", async () => {
      const found = await explore(
        SCENARIOS['a write-back and a lease renewal across a revocation'],
        (backends) => renewalReadmits(backends.probe),
        /^(S1|S3): .*s1 serves alice/,
      );
      expect(found.first).toMatch(/^(S1|S3): .*s1 serves alice/);
    });

    it("item 3: 0.4.1's reads, blind to the index, serve a session a plain service wrote back", async () => {
      const found = await explore(
        SCENARIOS['a plain service writing back across a revocation, then a read'],
        () => readsIgnoreTheIndex,
        /^(S1|S3): .*s1 serves alice/,
      );
      expect(found.first).toMatch(/^(S1|S3): .*s1 serves alice/);
    });

    it("item 4: with 0.4.1's listing and reads, an instance without the new secret lets a session survive revokeAll", async () => {
      const found = await explore(
        SCENARIOS['an instance on the old secret listing a user a revocation then signs out'],
        () => together(listingUnindexes, readsIgnoreTheIndex),
        /^S1: (s1|n1) serves alice after an acknowledged revokeAll/,
      );
      expect(found.first).toMatch(/^S1: (s1|n1) serves alice after an acknowledged revokeAll/);
    });

    it("1.0.0's logout (GETDEL, then ZREM): a second logout on another instance is acknowledged while the session can still serve", async () => {
      const found = await explore(
        SCENARIOS[
          'two logouts of one session on two instances and a plain service writing it back'
        ],
        () => takeThenUnindex(),
        /^S2: s1 serves after its end was acknowledged/,
      );
      expect(found.first).toMatch(/^S2: s1 serves after its end was acknowledged/);
    });

    it("1.0.0's logout still holds for two logouts on one instance (the case it covered)", async () => {
      const { first } = await explore(
        SCENARIOS['two logouts of one session and a plain service writing it back'],
        () => takeThenUnindex(),
      );
      expect(first).toBeUndefined();
    });
  });

  describe('random scenarios and schedules (fast-check)', () => {
    const users = fc.constantFrom('alice', 'bob');
    const known = fc.constantFrom('s1', 's2', 's3', 'n1', 'n2');
    const operation = (withFailover: boolean): fc.Arbitrary<Operation> =>
      fc.oneof(
        fc.record({
          op: fc.constant('login' as const),
          user: users,
          sid: fc.constantFrom('n1', 'n2'),
        }),
        fc.record({
          op: fc.constantFrom('read' as const, 'renew' as const, 'writeBack' as const),
          sid: known,
        }),
        fc.record({
          op: fc.constantFrom('logout' as const, 'logoutOther' as const, 'expire' as const),
          sid: known,
        }),
        fc.record({
          op: fc.constantFrom('list' as const, 'listOld' as const, 'revokeAll' as const),
          user: users,
        }),
        fc.record({
          op: fc.constant('cap' as const),
          user: users,
          cap: fc.integer({ min: 1, max: 2 }),
        }),
        ...(withFailover ? [fc.constant({ op: 'failover' as const })] : []),
      );
    const scenario = (withFailover: boolean) =>
      fc.record({
        // A session id is made once: two logins never share one.
        operations: fc
          .array(operation(withFailover), { minLength: 2, maxLength: 4 })
          .filter((ops) => {
            const sids = ops.flatMap((o) => (o.op === 'login' ? [o.sid] : []));
            return new Set(sids).size === sids.length;
          }),
        choices: fc.array(fc.nat({ max: 7 }), { maxLength: 40 }),
      });
    const setup = [
      { user: 'alice', sid: 's1' },
      { user: 'alice', sid: 's2' },
      { user: 'bob', sid: 's3' },
    ];
    const chooser = (choices: number[]) => {
      let next = 0;
      return () => choices[next++] ?? 0;
    };

    it('holds on the in-process backend', async () => {
      await fc.assert(
        fc.asyncProperty(scenario(true), async ({ operations, choices }) => {
          const backends = await inMemory();
          try {
            const world = await runOnce({ setup, operations }, backends, chooser(choices));
            expect(world.violations).toEqual([]);
          } finally {
            await backends.close();
          }
        }),
        { numRuns: 1000 },
      );
    }, 120_000);

    describe('on a real Redis', () => {
      const own = useOwnRedisServer();
      let run = 0;
      const onRedis = async (): Promise<Backends> => {
        const backend = new RedisBackend(new Redis(own.server.url), {
          ownsClient: true,
          allowUnsafeEviction: false,
          deployment: 'default',
          telemetry: SessionTelemetry.off,
        });
        await backend.ready(5000);
        const redis = own.redis;
        const probe: IndexProbe = {
          members: (key) => redis.zrange(key, '0', '-1'),
          ttlMs: (key) => redis.pttl(key),
          notBefore: async () => null,
          plantNotBefore: async () => undefined,
          plantEntry: async (key, sid, until) => void (await redis.zadd(key, String(until), sid)),
        };
        return {
          raw: backend,
          probe: () => probe,
          appName: `model-${++run}`,
          close: () => backend.close(),
        };
      };

      it('holds, for the same kind of scenarios and schedules', async () => {
        await fc.assert(
          fc.asyncProperty(scenario(false), async ({ operations, choices }) => {
            const backends = await onRedis();
            try {
              const world = await runOnce({ setup, operations }, backends, chooser(choices));
              expect(world.violations).toEqual([]);
            } finally {
              await backends.close();
            }
          }),
          { numRuns: 200 },
        );
      }, 180_000);

      it("finds item 3 on a real Redis too, with 0.4.1's index-blind reads", async () => {
        const scenario = SCENARIOS['a plain service writing back across a revocation, then a read'];
        const found = await fc.check(
          fc.asyncProperty(fc.array(fc.nat({ max: 7 }), { maxLength: 20 }), async (choices) => {
            const backends = await onRedis();
            try {
              const world = await runOnce(
                scenario,
                backends,
                chooser(choices),
                () => readsIgnoreTheIndex,
              );
              return world.violations.length === 0;
            } finally {
              await backends.close();
            }
          }),
          { numRuns: 200 },
        );
        expect(found.failed).toBe(true);
      }, 120_000);
    });
  });
});
