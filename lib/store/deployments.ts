import { InvalidTenantSessionOptionsError } from '../errors/invalid-options.error.js';
import { DEFAULT_DEPLOYMENT } from '../options/deployments-option.js';
import type { SessionBackend } from './session-backend.interface.js';

/**
 * Every Redis deployment the module uses, by name: `default` (the `redis` option) and each of
 * `deployments`. A tenant lives on exactly one (`tenantSettings[t].deployment`), so its
 * sessions, indexes, revocations and events never touch another: an EU tenant's data stays in
 * the EU Redis, and a heavy tenant on its own cannot slow the others down.
 */
export class Deployments {
  constructor(private readonly byName: ReadonlyMap<string, SessionBackend>) {}

  /** The named deployment's backend; an unknown name is a configuration error. */
  get(deployment = DEFAULT_DEPLOYMENT): SessionBackend {
    const backend = this.byName.get(deployment);
    if (!backend) {
      throw new InvalidTenantSessionOptionsError(
        `deployment "${deployment}" is not one of: ${[...this.byName.keys()].join(', ')}`,
      );
    }
    return backend;
  }

  /** Every deployment, the default first. */
  entries(): [string, SessionBackend][] {
    return [...this.byName];
  }

  async close(): Promise<void> {
    await Promise.all([...this.byName.values()].map((backend) => backend.lifecycle.close()));
  }
}
