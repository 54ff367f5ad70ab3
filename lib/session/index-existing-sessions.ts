/**
 * Bulk adoption of the sessions plain express-session left in Redis (a switch-over): one walk of
 * a tenant's session keys (SCAN on every master), indexing each legacy session found, so that
 * `revokeAll` covers every session in Redis without waiting for each to be read. Paced, resumable
 * and with a dry run, for the people on call (the CLI's `index` runs it).
 */
import type { INestApplicationContext } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidTenantSessionOptionsError } from '../errors/invalid-options.error.js';
import { RESOLVED_OPTIONS, type ResolvedOptions } from '../options/resolved-options.js';
import { RoundTripBudget } from '../store/operation-budget.js';
import type { ScanPosition } from '../store/session-key-store.interface.js';
import { TenantSessionRegistry } from './tenant-session.registry.js';
import type { TenantSessions } from './tenant-sessions.js';

/**
 * Where an `indexExistingSessions` walk stopped: plain JSON, to be saved (a file, a database)
 * and passed back as `resume`. It names Redis masters and SCAN cursors, never a session.
 */
export type SessionScanCursor = ScanPosition;

/** What a walk found, by session key seen (a key may be seen twice: SCAN's own guarantee). */
export interface IndexingCounts {
  /** Session keys looked at. */
  scanned: number;
  /** Legacy sessions indexed (in a dry run: that would be). */
  indexed: number;
  /** Sessions the module wrote (a sealed owner): indexed when they logged in. */
  alreadyIndexed: number;
  /** Sessions without an identity (anonymous), gone meanwhile, or corrupt: nothing to index. */
  skippedWithoutIdentity: number;
  /**
   * Sessions that will not serve: an owner that does not verify, or a legacy session whose user
   * was revoked since the adoption window began (or the window ended). Left to the next read,
   * which deletes them.
   */
  refused: number;
}

/** Told after every SCAN page: the counts so far and where to resume from. */
export interface IndexingProgress extends IndexingCounts {
  /** Absent once the walk is complete. */
  cursor?: SessionScanCursor;
}

export interface IndexExistingSessionsOptions {
  /** The tenant whose sessions to index; it must adopt legacy sessions (`adoptLegacySessions`). */
  tenant: string;
  /** Most session keys looked at per second, to spare a Redis under load. Default 1000. */
  keysPerSecond?: number;
  /** Count what would be indexed, writing nothing. Default false. */
  dryRun?: boolean;
  /** Resume a walk where it stopped (a result's or a progress report's `cursor`). */
  resume?: SessionScanCursor;
  /**
   * Stops the walk after the page in progress (at once if it is waiting for its pace); the
   * result's `cursor` resumes it.
   */
  signal?: AbortSignal;
  /** Called after every page (a progress bar, or saving `cursor` to resume after a crash). */
  onProgress?: (progress: IndexingProgress) => void;
}

/** The counts of this run (a resumed run counts from zero), and whether the walk is complete. */
export interface IndexingResult extends IndexingCounts {
  done: boolean;
  /** Where to resume; absent when `done`. */
  cursor?: SessionScanCursor;
}

const DEFAULT_KEYS_PER_SECOND = 1000;

/**
 * Indexes every legacy session of a tenant (stored by plain express-session with an identity,
 * by default `passport.user`, but no owner) under its user, as the module's first read of each
 * would: dated before every revocation, so one whose user was revoked since the adoption window
 * began is refused. Sessions are not rewritten (a plain service may be writing them); each is
 * sealed by its first read. Run it once no plain instance writes sessions any more (see
 * docs/recipes/switching-from-express-session.md): then `revokeAll` covers every session.
 *
 * Needs no HTTP server: `await NestFactory.createApplicationContext(AppModule)` is enough.
 * Each Redis round trip may wait `operationTimeoutMs`; a failure rejects (the last progress
 * report's `cursor` resumes the walk).
 *
 * @example
 * const result = await indexExistingSessions(app, {
 *   tenant: 'acme',
 *   keysPerSecond: 500,
 *   onProgress: ({ scanned, indexed }) => console.log(scanned, indexed),
 * });
 */
export async function indexExistingSessions(
  app: INestApplicationContext,
  options: IndexExistingSessionsOptions,
): Promise<IndexingResult> {
  const keysPerSecond = options.keysPerSecond ?? DEFAULT_KEYS_PER_SECOND;
  if (!(keysPerSecond > 0)) {
    throw new TypeError(`keysPerSecond must be a positive number, got ${keysPerSecond}`);
  }
  const settings = app.get<symbol, ResolvedOptions>(RESOLVED_OPTIONS, { strict: false });
  const tenant = await app.get(TenantSessionRegistry, { strict: false }).get(options.tenant);
  if (!tenant.index.adopts) {
    throw new InvalidTenantSessionOptionsError(
      `tenant ${tenant.tenant} does not adopt legacy sessions: set adoptLegacySessions ` +
        `(module or tenantSettings) to { until } before indexing them`,
    );
  }
  const counts: IndexingCounts = {
    scanned: 0,
    indexed: 0,
    alreadyIndexed: 0,
    skippedWithoutIdentity: 0,
    refused: 0,
  };
  const budget = new RoundTripBudget(settings.operationTimeoutMs);
  const started = performance.now();
  let cursor: SessionScanCursor | undefined = options.resume;
  const pages = tenant.backend.keys.scan(tenant.keys.sessionPattern(), budget, options.resume);
  for await (const page of pages) {
    const sids = page.keys.map((key) => tenant.keys.sidOf(key)!);
    await indexPage(tenant, sids, options.dryRun === true, counts, budget);
    cursor = page.next;
    options.onProgress?.({ ...counts, cursor });
    if (!cursor) break;
    // Paced on the keys looked at so far: a page is never split, the average holds.
    const aheadMs = (counts.scanned / keysPerSecond) * 1000 - (performance.now() - started);
    if (aheadMs > 0) await pause(aheadMs, options.signal);
    if (options.signal?.aborted) break;
  }
  return { ...counts, done: cursor === undefined, cursor };
}

/** Waits `ms`, or less if `signal` aborts meanwhile: a slow pace must not delay a stop. */
async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (error) {
    if (!signal?.aborted) throw error;
  }
}

/** Looks at one page of sessions (GET and PTTL in one round trip) and adopts the legacy ones. */
async function indexPage(
  tenant: TenantSessions,
  sids: string[],
  dryRun: boolean,
  counts: IndexingCounts,
  budget: RoundTripBudget,
): Promise<void> {
  const stored = await tenant.reader.inspect(sids, budget);
  await Promise.all(
    sids.map(async (sid, i) => {
      counts.scanned++;
      const { value, ttlMs } = stored[i];
      const found = value === null ? undefined : tenant.owners.interpret(sid, value);
      if (!found || found.verdict === 'anonymous') return void counts.skippedWithoutIdentity++;
      if (found.verdict === 'owned') return void counts.alreadyIndexed++;
      if (found.verdict === 'refused') return void counts.refused++;
      if (dryRun) return void counts.indexed++;
      // The lease covers the key's life as it stands: a plain writer may have set a long TTL.
      const leaseTtlMs = Math.max(ttlMs, tenant.lifetime.idleTtlMs);
      const admission = await tenant.index.adopt(found.userId, sid, leaseTtlMs, budget);
      if (admission.admitted) counts.indexed++;
      else counts.refused++;
    }),
  );
}
