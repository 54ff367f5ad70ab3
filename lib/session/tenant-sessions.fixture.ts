/**
 * Unit specs' shared setup: one tenant's parts on a given backend with the settings most specs
 * want, and a request carrying the facts the platform binding would have set. Not part of the
 * build (see tsconfig.build.json); each spec overrides only what it is about.
 */
import { ConsoleLogger, Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { OperationBudget } from '../store/operation-budget.js';
import type { SessionBackend } from '../store/session-backend.interface.js';
import { setRequestFacts } from './request-facts.js';
import { SessionLifecycle } from './session-lifecycle.js';
import type { LoginClient } from './session-owner.js';
import type { SessionRequest } from './session-request.js';
import { buildTenantSessions, type TenantSessions, type TenantSetup } from './tenant-sessions.js';

export const SPEC_SECRET = 'unit-spec-secret-0123456789abcdefghij';
export const SPEC_TTL_MS = 60_000;
export const SPEC_LIFETIME_MS = 24 * 3600_000;

/** A budget roomy enough that no in-process operation runs out of it. */
export const specBudget = () => new OperationBudget(5000);

/** A stored session's cookie as express-session leaves it in the data. */
export const specCookie = (maxAgeMs = SPEC_TTL_MS) => ({
  originalMaxAge: maxAgeMs,
  path: '/',
  httpOnly: true,
});

export type SpecTenantOverrides = Partial<Omit<TenantSetup, 'backend'>>;

/** Tenant `acme` of app `app` on `backend`, with `overrides` on top of the usual settings. */
export function specTenant(
  backend: SessionBackend,
  overrides: SpecTenantOverrides = {},
): TenantSessions {
  return buildTenantSessions({
    tenant: 'acme',
    appName: 'app',
    deployment: 'default',
    backend,
    keyTemplates: {
      keyPrefix: 'sessions:{tenant}:{app}:',
      indexPrefix: 'sessions-index:{tenant}:{app}:',
    },
    secrets: [SPEC_SECRET],
    identity: (s) => (s.passport as { user?: unknown } | undefined)?.user,
    idleTtlMs: SPEC_TTL_MS,
    lifetimeMs: SPEC_LIFETIME_MS,
    operationTimeoutMs: 1000,
    cookieName: 'sid',
    cookie: { path: '/', httpOnly: true, maxAge: SPEC_TTL_MS },
    rolling: true,
    saveUninitialized: false,
    trustedOrigins: new Set(),
    lifecycle: new SessionLifecycle(),
    ...overrides,
  });
}

export interface SpecRequestOptions {
  /** The Cookie header, if any. */
  cookie?: string;
  /** How long ago the request arrived (a login began then). */
  agoMs?: number;
  secure?: boolean;
  budget?: OperationBudget;
  client?: LoginClient;
}

/** A request as the platform binding hands it to the session core. */
export function specRequest(options: SpecRequestOptions = {}): SessionRequest {
  const { cookie, agoMs = 0, secure = false, budget = specBudget(), client = {} } = options;
  const req: SessionRequest = { headers: cookie === undefined ? {} : { cookie } };
  setRequestFacts(req, { arrivedAt: performance.now() - agoMs, budget, client, secure });
  return req;
}

/** Silences Nest's logger for the enclosing describe (specs provoke warnings on purpose). */
export function quietNestLogger(): void {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(new ConsoleLogger()));
}
