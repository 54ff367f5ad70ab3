import { Logger } from '@nestjs/common';
import type { Request } from 'express';
import { Store, type SessionData } from 'express-session';
import { needsLeaseRenewal, nextIndexedUntil } from '../revocation/index-lease.js';
import type { TenantKeys } from './keys.js';
import type { SessionBackend, SessionWrite } from './session-backend.interface.js';
import { decodeSession, encodeSession, sessionTtlMs } from './session-codec.js';
import { maxAgeOfSessionId } from './session-id.js';
import {
  bindOwner,
  isPersisted,
  markPersisted,
  ownerOf,
  type SessionOwner,
} from './session-state.js';

type Callback<T = void> = (err?: unknown, value?: T | null) => void;

/** express-session derives max-age from a clock reading, so it can be a few ms off the set value. */
const SAME_TTL_TOLERANCE_MS = 1000;

/**
 * One tenant's express-session store. Stored data stays what connect-redis reads and writes;
 * what differs is how it talks to Redis:
 * - a read is one GETEX that also restarts the idle TTL (the session id tells a session's own
 *   max-age, see session-id.ts), so no `touch` is needed afterwards;
 * - a session loaded from the store is saved with SET XX, so a request still in flight when
 *   its session is revoked cannot write it back;
 * - logged-in sessions keep their user index entry's lease ahead of their expiry.
 */
export class TenantSessionStore extends Store {
  private readonly logger = new Logger('TenantSession');

  constructor(
    private readonly backend: SessionBackend,
    readonly keys: TenantKeys,
    readonly idleTtlMs: number,
  ) {
    super();
  }

  override get(sid: string, callback: Callback<SessionData>): void {
    this.read(sid).then((data) => callback(null, data), callback);
  }

  override set(sid: string, session: SessionData, callback?: Callback): void {
    this.write(sid, session).then(
      () => callback?.(),
      (err) => callback?.(err),
    );
  }

  override destroy(sid: string, callback?: Callback): void {
    this.erase(sid).then(
      () => callback?.(),
      (err) => callback?.(err),
    );
  }

  /** Carries the owner over to the `req.session` object express-session builds from loaded data. */
  override createSession(req: Request, data: SessionData): ReturnType<Store['createSession']> {
    const owner = ownerOf(data);
    const session = super.createSession(req, data);
    markPersisted(session);
    if (owner) bindOwner(session, owner);
    return session;
  }

  private async read(sid: string): Promise<SessionData | null> {
    const key = this.keys.session(sid);
    const expectedTtlMs = maxAgeOfSessionId(sid) ?? this.idleTtlMs;
    const raw = await this.backend.load(key, expectedTtlMs);
    if (raw === null) return null;
    const decoded = decodeSession(raw);
    if (!decoded) {
      // Left in place for inspection; the visitor simply starts a new session.
      this.logger.warn(`Ignoring corrupt session data at ${key}`);
      return null;
    }
    const { data, owner } = decoded;
    const ttlMs = sessionTtlMs(data, this.idleTtlMs);
    const now = Date.now();
    if (owner && needsLeaseRenewal(owner.indexedUntil, now, ttlMs)) {
      owner.indexedUntil = nextIndexedUntil(now, ttlMs);
      await this.backend.write(this.toWrite(sid, data, owner, ttlMs, true, true));
    } else if (Math.abs(ttlMs - expectedTtlMs) > SAME_TTL_TOLERANCE_MS) {
      // The application changed this session's max-age after its id was made.
      await this.backend.expire(key, ttlMs);
    }
    if (owner) bindOwner(data, owner);
    return data;
  }

  private async write(sid: string, session: SessionData): Promise<void> {
    const ttlMs = sessionTtlMs(session, this.idleTtlMs);
    if (ttlMs <= 0) return this.erase(sid);
    const owner = ownerOf(session);
    const now = Date.now();
    const persisted = isPersisted(session);
    let index = false;
    if (owner && (!persisted || needsLeaseRenewal(owner.indexedUntil, now, ttlMs))) {
      owner.indexedUntil = Math.max(owner.indexedUntil, nextIndexedUntil(now, ttlMs));
      index = true;
    }
    const written = await this.backend.write(
      this.toWrite(sid, session, owner, ttlMs, persisted, index),
    );
    if (written) markPersisted(session);
    else
      this.logger.debug(
        `Session ${this.keys.session(sid)} was revoked meanwhile; not written back`,
      );
  }

  private async erase(sid: string): Promise<void> {
    const raw = await this.backend.take(this.keys.session(sid));
    const owner = raw === null ? undefined : decodeSession(raw)?.owner;
    if (owner) await this.backend.unindex(this.keys.index(owner.userId), [sid]);
  }

  private toWrite(
    sid: string,
    data: object,
    owner: SessionOwner | undefined,
    ttlMs: number,
    onlyIfExists: boolean,
    index: boolean,
  ): SessionWrite {
    return {
      key: this.keys.session(sid),
      value: encodeSession(data, owner),
      ttlMs,
      onlyIfExists,
      index:
        owner && index
          ? { key: this.keys.index(owner.userId), sid, indexedUntil: owner.indexedUntil }
          : undefined,
    };
  }
}
