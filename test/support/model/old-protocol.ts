import type { TenantSessions } from '../../../lib/session/tenant-sessions.js';
import { OperationBudget } from '../../../lib/store/operation-budget.js';
import type { SessionBackend } from '../../../lib/store/session-backend.interface.js';
import type { SessionKeyStore } from '../../../lib/store/session-key-store.interface.js';
import type { UserIndexStore } from '../../../lib/store/user-index-store.interface.js';
import type { IndexProbe } from '../contract-backends.js';
import { RENEWING_TTL_MS, type ProtocolVariant } from './protocol-world.js';

/**
 * 0.4.1's versions of the three protocol steps issue 18 found wanting, and 1.0.0's logout, for
 * showing that the model finds each bug when today's step is swapped back for the old one. Each
 * is written from that release's behaviour (its store and scripts), not imported: that code is
 * gone.
 */

const budget = () => new OperationBudget(30_000);
const FAR_FUTURE = 8.64e15;

/**
 * Item 1: `liveSessions()` dropped (ZREM) every entry whose session it did not find, or whose
 * owner did not verify: a login between its admission and its write looks exactly like that.
 */
export const listingUnindexes: ProtocolVariant = {
  async list(instance: TenantSessions, userId: string) {
    const page = await instance.index.page(userId, undefined, 100, budget());
    const sids = page.entries.map((entry) => entry.sid);
    const owned = await instance.reader.ownedBy(userId, sids, budget());
    const dead = sids.filter((_, i) => owned[i] === undefined);
    await instance.index.remove(userId, dead, budget());
  },
};

/** Item 2: the RENEW script re-added (ZADD GT) an entry that was no longer there. */
export function renewalReadmits(probe: () => IndexProbe): ProtocolVariant {
  return {
    backend: (backend) =>
      decorate(backend, {
        // Reads leave the renewal to `lease`, as on a Cluster.
        read: (key, restart, _check, work) => backend.keys.read(key, restart, undefined, work),
        lease: async (indexKey, sid, leaseMs, renewBelowMs, work) => {
          const lease = await backend.indexes.lease(indexKey, sid, leaseMs, renewBelowMs, work);
          // 0.4.1 renewed only leases it read as running low: here, the renewing instance's.
          if (lease !== undefined || renewBelowMs < 2 * RENEWING_TTL_MS) return lease;
          const until = Math.floor(backend.lifecycle.now() + leaseMs);
          await probe().plantEntry(indexKey, sid, until);
          return until;
        },
      }),
  };
}

/** Item 3: reads never looked at the index: a session key alone made a session serve. */
export const readsIgnoreTheIndex: ProtocolVariant = {
  backend: (backend) =>
    decorate(backend, {
      read: (key, restart, _check, work) => backend.keys.read(key, restart, undefined, work),
      lease: async (indexKey, sid, leaseMs, renewBelowMs, work) =>
        (await backend.indexes.lease(indexKey, sid, leaseMs, renewBelowMs, work)) ?? FAR_FUTURE,
    }),
};

/**
 * 1.0.0's logout: GETDEL, then ZREM of the owner's entry; an erase that found the key gone
 * removed the entry another erase on its own instance had taken and not yet unindexed. Across
 * instances a second logout was acknowledged before the first one's ZREM. GETDEL is gone from
 * the stores: here it is a read, then a deletion only of what was read, until one deletes
 * (returning what it deleted) or finds the key gone, which is what GETDEL answered.
 */
export function takeThenUnindex(): ProtocolVariant {
  const unindexing = new WeakMap<TenantSessions, Map<string, string>>();
  return {
    async logout(instance: TenantSessions, sid: string) {
      const taking = unindexing.get(instance) ?? new Map<string, string>();
      unindexing.set(instance, taking);
      const key = instance.keys.session(sid);
      let [{ value }] = await instance.backend.keys.inspect([key], budget());
      while (value !== null) {
        const left = await instance.backend.keys.removeIfHolds(key, value, budget());
        if (left === true) break;
        value = left;
      }
      if (value === null) {
        const taken = taking.get(sid);
        if (taken) await instance.index.remove(taken, [sid], budget(), true);
        return;
      }
      const owner = instance.owners.ownerInStored(sid, value);
      if (!owner) return;
      taking.set(sid, owner.userId);
      try {
        await instance.index.remove(owner.userId, [sid], budget(), true);
      } finally {
        taking.delete(sid);
      }
    },
  };
}

/** Several old steps at once, as 0.4.1 had them together. */
export function together(...variants: ProtocolVariant[]): ProtocolVariant {
  return {
    backend: (backend) =>
      variants.reduce((on, variant) => (variant.backend ? variant.backend(on) : on), backend),
    list: variants.find((variant) => variant.list)?.list,
    logout: variants.find((variant) => variant.logout)?.logout,
  };
}

/** The backend with its key store's `read` and its index store's `lease` replaced. */
function decorate(
  backend: SessionBackend,
  methods: Pick<SessionKeyStore, 'read'> & Pick<UserIndexStore, 'lease'>,
): SessionBackend {
  return {
    keys: replacing(backend.keys, { read: methods.read }),
    indexes: replacing(backend.indexes, { lease: methods.lease }),
    lifecycle: backend.lifecycle,
  };
}

function replacing<T extends object>(target: T, methods: Partial<T>): T {
  return new Proxy(target, {
    get: (object, property, receiver) => {
      const own = (methods as Record<string | symbol, unknown>)[property];
      if (own !== undefined) return own;
      const value: unknown = Reflect.get(object, property, receiver);
      return typeof value === 'function' ? value.bind(object) : value;
    },
  });
}
