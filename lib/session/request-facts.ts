import { performance } from 'node:perf_hooks';
import { OperationBudget } from '../store/operation-budget.js';
import type { LoginClient } from './session-owner.js';

/**
 * What the platform binding learns about a request once, for the session core to read without
 * knowing the platform: when it arrived (a login "began" then, for the not-before rule), the
 * budget all of its session work shares on the store, its client, and whether it came over
 * HTTPS (Secure cookies). Kept on the request object under a symbol private to this module.
 */
export interface RequestFacts {
  arrivedAt: number;
  budget: OperationBudget;
  client: LoginClient;
  secure: boolean;
  /** A logout ended the session: the answer clears the cookie. */
  signedOut?: boolean;
}

const FACTS = Symbol('tenant-session request facts');
type WithFacts = object & { [FACTS]?: RequestFacts };

export function setRequestFacts(req: object, facts: RequestFacts): void {
  (req as WithFacts)[FACTS] = facts;
}

export function getRequestFacts(req: object | undefined): RequestFacts | undefined {
  return (req as WithFacts | undefined)?.[FACTS];
}

/** How long ago the request arrived, by this process's monotonic clock (no wall clock). */
export function requestAgeMs(facts: RequestFacts | undefined): number {
  return facts ? performance.now() - facts.arrivedAt : 0;
}

/** The request's budget, or one of `limitMs` for work outside a request. */
export function budgetOf(req: object | undefined, limitMs: number): OperationBudget {
  return getRequestFacts(req)?.budget ?? new OperationBudget(limitMs);
}
