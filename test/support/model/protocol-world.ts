import { performance } from 'node:perf_hooks';
import { LoginRevokedException } from '../../../lib/errors/login-revoked.exception.js';
import type { ResolvedOptions } from '../../../lib/options/resolved-options.js';
import { RevocationEvents } from '../../../lib/revocation/revocation-events.js';
import { SessionCap } from '../../../lib/revocation/session-cap.js';
import { SessionRevocationService } from '../../../lib/revocation/session-revocation.service.js';
import { SessionRevoker } from '../../../lib/revocation/session-revoker.js';
import { setRequestFacts } from '../../../lib/session/request-facts.js';
import { sessionHandle } from '../../../lib/session/session-handle.js';
import { SessionLifecycle } from '../../../lib/session/session-lifecycle.js';
import type { TenantSessionRegistry } from '../../../lib/session/tenant-session.registry.js';
import { buildTenantSessions, type TenantSessions } from '../../../lib/session/tenant-sessions.js';
import { OperationBudget } from '../../../lib/store/operation-budget.js';
import type { SessionBackend } from '../../../lib/store/session-backend.interface.js';
import type { Gate } from './gate.js';

export const TENANT = 'acme';
const SECRET_NEW = 'model-secret-new-0123456789abcdefgh';
const SECRET_OLD = 'model-secret-old-0123456789abcdefgh';
/** Long enough that nothing expires by itself during a run: expiry is an explicit event. */
const TTL_MS = 60_000;
/** A store with this idle TTL renews any lease it reads (less than 2 of its TTLs left). */
export const RENEWING_TTL_MS = 100 * TTL_MS;
const budget = () => new OperationBudget(30_000);

/**
 * How one protocol step of 0.4.1 may replace today's, to show that the model finds the bugs
 * those steps had (see old-protocol.ts): the listing, the lease renewal, and the read's check.
 */
export interface ProtocolVariant {
  /** A backend over the one under test whose renewals and reads behave as 0.4.1's did. */
  backend?(backend: SessionBackend): SessionBackend;
  /** A listing as 0.4.1's: unindexes entries whose session it does not find. */
  list?(instance: TenantSessions, userId: string): Promise<void>;
  /** A logout as 1.0.0's: the key taken (GETDEL) before its owner's entry goes. */
  logout?(instance: TenantSessions, sid: string): Promise<void>;
}

interface Login {
  userId: string;
  sid: string;
  beganAt: number;
  /** When its login answered that it is stored. */
  storedAt?: number;
  outcome?: 'stored' | 'refused' | 'failed';
}

/**
 * How precisely the app dates a login on the store's clock (its estimate of it, see
 * LoginStart): a login beginning this soon after a revocation may be refused with it.
 */
const CLOCK_ESTIMATE_MS = 10;

/** Something that must never be seen, with what led to it. */
export interface Violation {
  rule: string;
  detail: string;
}

/**
 * One tenant's machinery built from the module's own classes on a backend (in-process or a real
 * Redis), the protocol's operations as actors on a gate, and the record of what each operation
 * was told (its acknowledgements), against which the invariant is checked:
 * - S1 (the promise): no session serves whose login began before a revocation of its user that
 *   was acknowledged;
 * - S2: no session serves once its logout or its own revocation (by handle, by the cap) was
 *   acknowledged;
 * - S3: a session serves only while its user's index holds its entry with a live lease;
 * - L1, once every operation is over: an acknowledged login still serves unless something
 *   ended it (a revocation of its user begun after it, its logout, expiry, a failover);
 * - L2: a login is refused only when a revocation of its user began after the login did.
 */
export class ProtocolWorld {
  /** The app instance under test: signs with the new secret, accepts the old. */
  readonly main: TenantSessions;
  /** An instance reading every lease as due for renewal (a long idle TTL). */
  readonly renewing: TenantSessions;
  /** An instance not rotated yet: the old secret only. */
  readonly old: TenantSessions;
  /** Another instance as `main` is (a logout there races one on `main`). */
  readonly other: TenantSessions;
  /** The same tenant outside any actor: what the invariant checks read through. */
  private readonly checker: TenantSessions;
  private readonly revocations: SessionRevocationService;
  private readonly oldRevocations: SessionRevocationService;
  private readonly revoker: SessionRevoker;
  private readonly logins = new Map<string, Login>();
  /** revokeAll calls: when each began and was acknowledged (Infinity until then). */
  private readonly revokedUsers: { userId: string; startedAt: number; ackedAt: number }[] = [];
  /** Sessions a logout or a revocation of their own ended, by when it began. */
  private readonly ended = new Map<string, number>();
  /**
   * Sessions Redis expired. No end anyone acknowledged: a plain service that still holds one
   * may write it back, and it serves again (it was never revoked).
   */
  private readonly expired = new Set<string>();
  /** When the cap being applied now began (its revocations are told by event). */
  private capStartedAt = 0;
  private failoverAt = Infinity;
  readonly violations: Violation[] = [];
  readonly trace: string[] = [];

  constructor(
    private readonly appName: string,
    /** The backend with no variant and no gate, which the checks read. */
    private readonly raw: SessionBackend,
    readonly gate: Gate,
    private readonly variant: ProtocolVariant = {},
    private readonly onFailover?: () => Promise<void>,
  ) {
    const seen = variant.backend ? variant.backend(raw) : raw;
    const backend = gate.wrap(seen);
    this.main = this.instance(backend, [SECRET_NEW, SECRET_OLD]);
    this.renewing = this.instance(backend, [SECRET_NEW, SECRET_OLD], RENEWING_TTL_MS);
    this.old = this.instance(backend, [SECRET_OLD]);
    this.other = this.instance(backend, [SECRET_NEW, SECRET_OLD]);
    this.checker = this.instance(seen, [SECRET_NEW, SECRET_OLD]);
    const events = new RevocationEvents();
    events.listen((event) => {
      if (event.reason === 'user' || event.reason === 'tenant') return;
      for (const sid of this.logins.keys()) {
        if (event.sessions.includes(sessionHandle(sid))) this.ended.set(sid, this.capStartedAt);
      }
    });
    this.revoker = new SessionRevoker(events);
    this.revocations = this.serviceOn(this.main, events);
    this.oldRevocations = this.serviceOn(this.old, events);
  }

  sessionKey(sid: string): string {
    return this.main.keys.session(sid);
  }

  // --- The protocol's operations, each an actor on the gate. ---

  /**
   * A login as a request makes it: an identity appears on a new session, which is saved. Its
   * request's arrival is a step of its own, so schedules order it against revocations too.
   */
  async login(userId: string, sid: string): Promise<void> {
    await this.gate.pass(`begin login ${sid}`);
    const login: Login = { userId, sid, beganAt: performance.now() };
    this.logins.set(sid, login);
    const req = { headers: {} };
    setRequestFacts(req, {
      arrivedAt: login.beganAt,
      budget: budget(),
      client: { ip: '127.0.0.1', userAgent: 'model' },
      secure: false,
    });
    const session = { cookie: { originalMaxAge: TTL_MS }, passport: { user: userId } };
    return this.main.writer.save(sid, session, budget(), req).then(
      () => {
        login.outcome = 'stored';
        login.storedAt = performance.now();
      },
      (error: unknown) => {
        login.outcome = error instanceof LoginRevokedException ? 'refused' : 'failed';
      },
    );
  }

  /** A request's read of its session (which renews a lease running low). */
  async read(sid: string, instance = this.main): Promise<void> {
    await instance.reader.read(sid, budget()).catch(() => undefined);
  }

  /** A read on an instance for which every lease is due for renewal. */
  renew(sid: string): Promise<void> {
    return this.read(sid, this.renewing);
  }

  /** A page of the user's sessions, as the account page asks on every load. */
  async list(userId: string, instance: 'rotated' | 'old' = 'rotated'): Promise<void> {
    const [service, on] =
      instance === 'old' ? [this.oldRevocations, this.old] : [this.revocations, this.main];
    if (this.variant.list) return this.variant.list(on, userId);
    await service.list(TENANT, userId);
  }

  /** "Sign out everywhere": acknowledged once revokeAll resolves. */
  async revokeAll(userId: string): Promise<void> {
    await this.gate.pass(`begin revokeAll ${userId}`);
    const revocation = { userId, startedAt: performance.now(), ackedAt: Infinity };
    this.revokedUsers.push(revocation);
    await this.revocations.revokeAll(TENANT, userId);
    revocation.ackedAt = performance.now();
  }

  /** The session cap, as a login past it applies it. */
  async cap(userId: string, cap: number): Promise<void> {
    this.capStartedAt = performance.now();
    await new SessionCap(this.registryOf(this.main), this.revoker, cap, 30_000).enforce(
      TENANT,
      userId,
    );
  }

  /** A logout, on `main` or on the other instance; acknowledged once it resolves. */
  async logout(sid: string, on: 'main' | 'other' = 'main'): Promise<void> {
    const startedAt = performance.now();
    const instance = on === 'other' ? this.other : this.main;
    if (this.variant.logout) await this.variant.logout(instance, sid);
    else await instance.writer.erase(sid, budget());
    this.ended.set(sid, startedAt);
  }

  /** Redis expiring the session key. */
  async expire(sid: string): Promise<void> {
    await this.gate.pass(`expire ${sid}`);
    await this.raw.keys.remove([this.sessionKey(sid)], budget());
    this.expired.add(sid);
  }

  /**
   * A plain express-session + connect-redis service: its request loads the session (GET), and
   * saves what it loaded later (a plain SET with the TTL), whatever happened meanwhile.
   */
  async writeBack(sid: string): Promise<void> {
    const backend = this.gate.wrap(this.raw);
    const [loaded] = await backend.keys.inspect([this.sessionKey(sid)], budget());
    if (loaded.value === null) return;
    await backend.keys.write(
      { key: this.sessionKey(sid), value: loaded.value, ttlMs: TTL_MS, onlyIfExists: false },
      budget(),
    );
  }

  /** A failover that loses every write not yet on the replica. */
  async failover(): Promise<void> {
    await this.gate.pass('failover');
    this.failoverAt = Math.min(this.failoverAt, performance.now());
    await this.onFailover?.();
  }

  // --- The invariant. ---

  /** Checks S1–S3 now, with every actor held at the gate or finished. */
  async checkSafety(): Promise<void> {
    for (const sid of this.logins.keys()) {
      const serving = await this.servingUser(sid);
      if (serving === undefined) continue;
      const login = this.logins.get(sid)!;
      const revoked = this.revokedUsers.find(
        (r) => r.ackedAt !== Infinity && r.userId === serving && r.startedAt > login.beganAt,
      );
      if (revoked) this.violate('S1', `${sid} serves ${serving} after an acknowledged revokeAll`);
      // An end begun once the session was stored (one that overlaps its login may precede it).
      if ((this.ended.get(sid) ?? -Infinity) > (login.storedAt ?? Infinity)) {
        this.violate('S2', `${sid} serves after its end was acknowledged`);
      }
      const entries = await this.raw.indexes.entries(
        this.main.keys.index(serving),
        false,
        budget(),
      );
      if (!entries.some((entry) => entry.sid === sid)) {
        this.violate('S3', `${sid} serves ${serving} without an index entry`);
      }
    }
  }

  /** Checks L1 and L2, once every operation is over. */
  async checkLiveness(): Promise<void> {
    for (const login of this.logins.values()) {
      // A revocation still running when the login began may have recorded its not-before
      // after that: the login may end with it (the revocation's own instant).
      const revokedSince = this.revokedUsers.some(
        (r) => r.userId === login.userId && r.ackedAt >= login.beganAt - CLOCK_ESTIMATE_MS,
      );
      const lost =
        this.failoverAt !== Infinity || this.ended.has(login.sid) || this.expired.has(login.sid);
      if (login.outcome === 'refused' && !revokedSince && !lost) {
        this.violate('L2', `${login.sid}'s login was refused with no revocation since it began`);
      }
      if (login.outcome !== 'stored' || revokedSince || lost) continue;
      if ((await this.servingUser(login.sid)) !== login.userId) {
        this.violate('L1', `${login.sid}'s acknowledged login no longer serves`);
      }
    }
  }

  /** Whom the session serves now, read without changing anything (as sockets read it). */
  private async servingUser(sid: string): Promise<string | undefined> {
    const [snapshot] = await this.checker.reader.snapshots([sid], budget());
    return snapshot?.userId;
  }

  private violate(rule: string, detail: string): void {
    this.violations.push({ rule, detail: `${detail}; steps: ${this.trace.join(' → ')}` });
  }

  /** One app instance's tenant machinery on `backend`. */
  private instance(backend: SessionBackend, secrets: string[], idleTtlMs = TTL_MS): TenantSessions {
    return buildTenantSessions({
      tenant: TENANT,
      appName: this.appName,
      deployment: 'default',
      backend,
      keyTemplates: {
        keyPrefix: 'sessions:{tenant}:{app}:',
        indexPrefix: 'sessions-index:{tenant}:{app}:',
      },
      secrets,
      identity: (session) => (session as { passport?: { user?: unknown } }).passport?.user,
      idleTtlMs,
      lifetimeMs: 100 * RENEWING_TTL_MS,
      operationTimeoutMs: 30_000,
      cookieName: 'sid',
      cookie: { path: '/' },
      rolling: true,
      saveUninitialized: false,
      trustedOrigins: new Set(),
      lifecycle: new SessionLifecycle(),
    });
  }

  /** A registry that knows one tenant: this instance's. */
  private registryOf(instance: TenantSessions): TenantSessionRegistry {
    return {
      get: async () => instance,
      forget: () => undefined,
    } as unknown as TenantSessionRegistry;
  }

  private serviceOn(instance: TenantSessions, events: RevocationEvents): SessionRevocationService {
    const options = { operationTimeoutMs: 30_000 } as ResolvedOptions;
    return new SessionRevocationService(this.registryOf(instance), this.revoker, events, options);
  }
}
