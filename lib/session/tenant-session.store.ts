import { Logger } from '@nestjs/common';
import type { Request } from 'express';
import { Store, type SessionData } from 'express-session';
import { LoginRevokedException } from '../errors/login-revoked.exception.js';
import { SessionRevokedException } from '../errors/session-revoked.exception.js';
import { WrongTypeError } from '../errors/wrong-type.error.js';
import type { SessionIdentity } from '../options/tenant-session-options.interface.js';
import type { TenantKeys } from '../store/keys.js';
import { OperationBudget } from '../store/operation-budget.js';
import type { SessionBackend } from '../store/session-backend.interface.js';
import { normalizeUserId } from '../user-index/user-id.js';
import type { UserSessionIndex } from '../user-index/user-session-index.js';
import type { OwnerSeal } from './owner-seal.js';
import { getRequestContext, requestAgeMs } from './request-context.js';
import { decodeSession, encodeSession, sessionTtlMs } from './session-codec.js';
import { sessionHandle } from './session-handle.js';
import { maxAgeOfSessionId } from './session-id.js';
import {
  bindOwner,
  isPersisted,
  markSaveFailed,
  markStored,
  ownerOf,
  unbindOwner,
  type SessionOwner,
} from './session-state.js';

type Callback<T = void> = (err?: unknown, value?: T | null) => void;
type SessionObject = SessionData & Record<string, unknown> & { req?: Request };

/** express-session derives max-age from a clock reading, so it can be a few ms off the set value. */
const SAME_TTL_TOLERANCE_MS = 1000;
const MAX_USER_AGENT_LENGTH = 512;

/** What the store and its callers need to know about one tenant. */
export interface TenantStoreSettings {
  keys: TenantKeys;
  index: UserSessionIndex;
  seal: OwnerSeal;
  identity: SessionIdentity;
  idleTtlMs: number;
  operationTimeoutMs: number;
}

/**
 * One tenant's express-session store. Stored data stays what connect-redis reads and writes;
 * what differs is how it talks to Redis:
 * - a read is one GETEX that also restarts the idle TTL (the session id tells a session's own
 *   max-age, see session-id.ts), so no `touch` is needed afterwards;
 * - a session loaded from the store is saved with SET XX, so a request still in flight when
 *   its session is revoked cannot write it back;
 * - the user index follows the session's identity on every save, however it got there (our
 *   login, passport, the app's own fields): indexed before it is stored, unindexed after.
 */
export class TenantSessionStore extends Store {
  private readonly logger = new Logger('TenantSession');
  /** Installed by express-session on the store it is given. */
  declare generate: (req: Request) => void;
  readonly keys: TenantKeys;
  readonly idleTtlMs: number;

  constructor(
    private readonly backend: SessionBackend,
    private readonly settings: TenantStoreSettings,
  ) {
    super();
    this.keys = settings.keys;
    this.idleTtlMs = settings.idleTtlMs;
  }

  override get(sid: string, callback: Callback<SessionData>): void {
    this.read(sid, this.budget()).then((data) => callback(null, data), callback);
  }

  override set(sid: string, session: SessionData, callback?: Callback): void {
    const req = (session as SessionObject).req;
    this.write(sid, session as SessionObject, req).then(
      () => callback?.(),
      (err) => {
        markSaveFailed(session);
        callback?.(err);
      },
    );
  }

  override destroy(sid: string, callback?: Callback): void {
    this.erase(sid, this.budget()).then(
      () => callback?.(),
      (err) => callback?.(err),
    );
  }

  /** express-session's regenerate, on the request's budget (login, passport's logIn/logOut). */
  override regenerate(req: Request, callback: (err?: unknown) => void): void {
    this.erase(req.sessionID, this.budget(req)).then(() => {
      this.generate(req);
      callback();
    }, callback);
  }

  /** Deletes the request's session (and its index entry) on the request's budget. */
  async end(req: Request): Promise<void> {
    await this.erase(req.sessionID, this.budget(req));
    (req as { session?: unknown }).session = undefined;
  }

  /** Carries the owner over to the `req.session` object express-session builds from loaded data. */
  override createSession(req: Request, data: SessionData): ReturnType<Store['createSession']> {
    const owner = ownerOf(data);
    const session = super.createSession(req, data);
    markStored(session);
    if (owner) bindOwner(session, owner);
    return session;
  }

  /** Who the session belongs to: the user `login()` bound, else the `identity` option's answer. */
  identityOf(session: object | null | undefined): string | undefined {
    if (!session) return undefined;
    const owner = ownerOf(session);
    if (owner?.via === 'login') return owner.userId;
    return normalizeUserId(this.settings.identity(session as SessionObject));
  }

  /** Binds a freshly regenerated session to `userId`; indexed by its next save. */
  bindLogin(session: object, userId: string, req: Request): void {
    bindOwner(session, {
      userId,
      via: 'login',
      createdAt: 0,
      ip: req.ip,
      userAgent: req.get('user-agent')?.slice(0, MAX_USER_AGENT_LENGTH),
      indexedUntil: 0,
    });
  }

  /** The owner sealed into stored JSON, or undefined when absent or not written by us (logged). */
  ownerInStored(sid: string, raw: string): SessionOwner | undefined {
    const decoded = decodeSession(raw);
    return decoded && this.verifiedOwner(sid, decoded);
  }

  /** A budget for work outside any request's, or the request's own. */
  budget(req?: Request): OperationBudget {
    return getRequestContext(req)?.budget ?? new OperationBudget(this.settings.operationTimeoutMs);
  }

  private async read(sid: string, budget: OperationBudget): Promise<SessionData | null> {
    try {
      return await this.readStored(sid, budget);
    } catch (error) {
      if (!(error instanceof WrongTypeError)) throw error;
      this.logger.warn(`Ignoring a key of the wrong Redis type (session ${sessionHandle(sid)})`);
      return null;
    }
  }

  private async readStored(sid: string, budget: OperationBudget): Promise<SessionData | null> {
    const key = this.keys.session(sid);
    const expectedTtlMs = maxAgeOfSessionId(sid) ?? this.idleTtlMs;
    const raw = await this.backend.load(key, expectedTtlMs, budget);
    if (raw === null) return null;
    const decoded = decodeSession(raw);
    if (!decoded) {
      // Left in place for inspection; the visitor simply starts a new session.
      this.logger.warn(`Ignoring corrupt session data (session ${sessionHandle(sid)})`);
      return null;
    }
    const { data } = decoded;
    const owner = this.verifiedOwner(sid, decoded);
    const ttlMs = sessionTtlMs(data, this.idleTtlMs);
    if (owner && this.settings.index.needsRenewal(owner.indexedUntil, ttlMs)) {
      // Index first: if the write below never happens, the entry just outlives its session.
      owner.indexedUntil = await this.settings.index.renew(owner.userId, sid, ttlMs, budget);
      const value = this.encode(sid, data, owner);
      const written = await this.backend.write({ key, value, onlyIfExists: true }, budget);
      if (!written) return null; // revoked since the GETEX above
    } else if (Math.abs(ttlMs - expectedTtlMs) > SAME_TTL_TOLERANCE_MS) {
      // The application changed this session's max-age after its id was made.
      await this.backend.expire(key, ttlMs, budget);
    }
    if (owner) bindOwner(data, owner);
    return data;
  }

  /**
   * Saves a session and keeps its index entry with its identity: an identity that appears is
   * admitted (refused if the user was revoked since the request began), stored, then confirmed;
   * one that changes or goes is unindexed only after the session no longer claims it.
   */
  private async write(sid: string, session: SessionObject, req?: Request): Promise<void> {
    const context = getRequestContext(req);
    const budget = this.budget(req);
    const ttlMs = sessionTtlMs(session, this.idleTtlMs);
    if (ttlMs <= 0) return this.erase(sid, budget);
    const key = this.keys.session(sid);
    const persisted = isPersisted(session);
    const current = ownerOf(session);
    const indexed = current && current.indexedUntil > 0 ? current : undefined;
    const identity = this.identityOf(session);

    let owner: SessionOwner | undefined;
    if (identity === undefined) {
      owner = undefined;
    } else if (indexed?.userId === identity) {
      owner = indexed;
      if (this.settings.index.needsRenewal(owner.indexedUntil, ttlMs)) {
        owner.indexedUntil = await this.settings.index.renew(identity, sid, ttlMs, budget);
      }
    } else {
      if (persisted) {
        this.logger.warn(
          `An identity appeared on session ${sessionHandle(sid)} without a new session id ` +
            '(session fixation risk): regenerate the session when logging in',
        );
      }
      owner = await this.admit(sid, identity, current, ttlMs, requestAgeMs(context), budget, req);
    }

    const value = this.encode(sid, session, owner);
    const written = await this.backend.write(
      { key, value, ttlMs, onlyIfExists: persisted },
      budget,
    );
    if (!written) throw new SessionRevokedException();
    if (owner && owner !== indexed) await this.confirm(sid, owner, requestAgeMs(context), budget);
    if (indexed && indexed.userId !== owner?.userId) {
      await this.settings.index.remove(indexed.userId, [sid], budget);
    }
    if (owner) bindOwner(session, owner);
    else unbindOwner(session);
    markStored(session);
  }

  private async admit(
    sid: string,
    userId: string,
    current: SessionOwner | undefined,
    ttlMs: number,
    sinceMs: number,
    budget: OperationBudget,
    req?: Request,
  ): Promise<SessionOwner> {
    const admission = await this.settings.index.admit(userId, sid, ttlMs, sinceMs, budget);
    if (!admission.admitted) throw new LoginRevokedException();
    const bound = current?.via === 'login' && current.userId === userId ? current : undefined;
    return {
      userId,
      via: bound ? 'login' : 'identity',
      createdAt: admission.now,
      ip: bound ? bound.ip : req?.ip,
      userAgent: bound ? bound.userAgent : req?.get('user-agent')?.slice(0, MAX_USER_AGENT_LENGTH),
      indexedUntil: admission.until,
    };
  }

  /** A login's session is stored: if a revocation raced it, take the session back. */
  private async confirm(
    sid: string,
    owner: SessionOwner,
    sinceMs: number,
    budget: OperationBudget,
  ): Promise<void> {
    if (await this.settings.index.confirm(owner.userId, sid, sinceMs, budget)) return;
    await this.backend.remove([this.keys.session(sid)], budget);
    throw new LoginRevokedException();
  }

  private async erase(sid: string, budget: OperationBudget): Promise<void> {
    let raw: string | null;
    try {
      raw = await this.backend.take(this.keys.session(sid), budget);
    } catch (error) {
      if (!(error instanceof WrongTypeError)) throw error;
      this.logger.warn(`Ignoring a key of the wrong Redis type (session ${sessionHandle(sid)})`);
      return;
    }
    const owner = raw === null ? undefined : this.ownerInStored(sid, raw);
    if (owner) await this.settings.index.remove(owner.userId, [sid], budget);
  }

  private verifiedOwner(
    sid: string,
    decoded: NonNullable<ReturnType<typeof decodeSession>>,
  ): SessionOwner | undefined {
    if (decoded.owner) {
      const { seal, ...owner } = decoded.owner;
      if (this.settings.seal.verify(sid, owner, seal)) return owner;
    } else if (!decoded.unsealed) {
      return undefined;
    }
    this.logger.warn(
      `Ignoring a session owner this library did not write (session ${sessionHandle(sid)})`,
    );
    return undefined;
  }

  private encode(sid: string, data: object, owner: SessionOwner | undefined): string {
    return encodeSession(data, owner && { ...owner, seal: this.settings.seal.seal(sid, owner) });
  }
}
