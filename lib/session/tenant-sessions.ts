import type { CookieOptions } from 'express-session';
import type { LoginFieldsHook } from '../options/login-fields.interface.js';
import type { SessionIdentity } from '../options/tenant-session-options.interface.js';
import { TenantKeys } from '../store/keys.js';
import type { SessionBackend } from '../store/session-backend.interface.js';
import { UserSessionIndex } from '../user-index/user-session-index.js';
import { LoginFieldsRecorder } from './login-fields.js';
import { OwnerSeals } from './owner-seals.js';
import { generateSessionId } from './session-id.js';
import type { SessionLifecycle } from './session-lifecycle.js';
import { SessionLifetime } from './session-lifetime.js';
import { SessionListing } from './session-listing.js';
import { SessionOwnership } from './session-owner.js';
import { SessionReader } from './session-reader.js';
import { SessionWriter } from './session-writer.js';
import { TenantCookie } from './tenant-cookie.js';
import { TenantSessionLoader } from './tenant-session-loader.js';
import { TenantStore } from './tenant-store.js';

/** Everything one tenant's sessions are built from (options and tenant settings, resolved). */
export interface TenantSetup {
  tenant: string;
  appName: string;
  /** The Redis deployment holding this tenant's sessions (see `deployments`), and its backend. */
  deployment: string;
  backend: SessionBackend;
  keyTemplates: { keyPrefix: string; indexPrefix: string };
  secrets: string[];
  identity: SessionIdentity;
  /** The app's hook adding its own fields to a login's listing data (see `loginFields`). */
  loginFields?: LoginFieldsHook;
  idleTtlMs: number;
  lifetimeMs: number;
  operationTimeoutMs: number;
  cookieName: string;
  cookie: CookieOptions;
  rolling: boolean;
  saveUninitialized: boolean;
  trustedOrigins: ReadonlySet<string>;
  lifecycle: SessionLifecycle;
  /** Legacy sessions are adopted until then (ms epoch); undefined: they are refused. */
  adoptLegacyUntilMs?: number;
}

/** Everything built for one tenant, each part with its one job. */
export interface TenantSessions {
  tenant: string;
  deployment: string;
  backend: SessionBackend;
  keys: TenantKeys;
  index: UserSessionIndex;
  owners: SessionOwnership;
  lifetime: SessionLifetime;
  reader: SessionReader;
  writer: SessionWriter;
  /** The express-session store (the facade express-session, passport and callers see). */
  store: TenantStore;
  loader: TenantSessionLoader;
  cookie: TenantCookie;
  /** Origins besides the request's own that may send unsafe requests (module's and tenant's). */
  trustedOrigins: ReadonlySet<string>;
}

/** Puts one tenant's parts together. */
export function buildTenantSessions(setup: TenantSetup): TenantSessions {
  const { tenant, backend, lifecycle } = setup;
  const now = () => backend.lifecycle.now();
  const keys = new TenantKeys(setup.keyTemplates, tenant, setup.appName);
  const index = new UserSessionIndex(backend, keys, setup.adoptLegacyUntilMs);
  const owners = new SessionOwnership(
    new OwnerSeals(setup.secrets, keys.sessionPrefix),
    setup.identity,
    now,
    setup.adoptLegacyUntilMs,
  );
  const lifetime = new SessionLifetime(setup.idleTtlMs, now);
  const loginFields = new LoginFieldsRecorder(setup.loginFields, setup.operationTimeoutMs);
  const writer = new SessionWriter(
    { tenant, deployment: setup.deployment },
    keys,
    backend.keys,
    index,
    owners,
    lifetime,
    lifecycle,
    loginFields,
  );
  const reader = new SessionReader(keys, backend.keys, index, owners, lifetime, (sid, budget) =>
    writer.erase(sid, budget),
  );
  const listing = new SessionListing(keys, backend.keys, reader, setup.operationTimeoutMs);
  const store = new TenantStore(reader, writer, listing, setup.operationTimeoutMs);
  const cookie = new TenantCookie(setup.cookieName, setup.secrets, setup.cookie, reader);
  const loader = new TenantSessionLoader(store, reader, lifetime, {
    cookieName: setup.cookieName,
    secrets: setup.secrets,
    cookie: setup.cookie,
    rolling: setup.rolling,
    saveUninitialized: setup.saveUninitialized,
    generateId: (req) => generateSessionId(req, now(), setup.lifetimeMs),
  });
  return {
    tenant,
    deployment: setup.deployment,
    backend,
    keys,
    index,
    owners,
    lifetime,
    reader,
    writer,
    store,
    loader,
    cookie,
    trustedOrigins: setup.trustedOrigins,
  };
}
