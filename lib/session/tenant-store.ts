import { Store, type SessionData } from 'express-session';
import { budgetOf } from './request-facts.js';
import type { ListedSession, SessionListing } from './session-listing.js';
import type { SessionReader } from './session-reader.js';
import type { SessionRequest } from './session-request.js';
import { bindOwner, carryLoadedState, holdFor, ownerOf, storedValueOf } from './session-state.js';
import type { SessionWriter } from './session-writer.js';
import type { StoreCallback, TenantSessionStore } from './tenant-session-store.interface.js';

/**
 * connect-redis 8's calling convention: the promise resolves to the value or, given a callback,
 * to what the callback returns once called with (error) or (null, value). A failure without a
 * callback rejects the promise, which is marked handled: a caller who ignores it (such as
 * express-session's `req.session.destroy()` without a callback) never gets an unhandled
 * rejection that ends the process.
 */
function settle<T>(work: Promise<T>, callback: StoreCallback<T> | undefined): Promise<unknown> {
  if (callback)
    return work.then(
      (value) => callback(null, value),
      (error) => callback(error),
    );
  work.catch(() => undefined);
  return work;
}

type RequestWithSession = SessionRequest & { session?: { req?: object } };

/**
 * One tenant's express-session store: the facade express-session, passport and connect-redis's
 * callers talk to, each method a call to the part that does the work (SessionReader,
 * SessionWriter, SessionListing), on the request's budget when there is a request.
 */
export class TenantStore extends Store implements TenantSessionStore {
  /** Gives `req` a new session: the tenant's session loader installs it. */
  declare generate: (req: SessionRequest) => void;

  constructor(
    private readonly reader: SessionReader,
    private readonly writer: SessionWriter,
    private readonly listing: SessionListing,
    private readonly operationTimeoutMs: number,
  ) {
    super();
  }

  /** The session, its idle TTL restarted (one command on a single Redis); null when none. */
  override get(sid: string): Promise<SessionData | null>;
  override get(sid: string, callback: StoreCallback<SessionData | null>): Promise<unknown>;
  override get(sid: string, callback?: StoreCallback<SessionData | null>): Promise<unknown> {
    return settle(this.reader.read(sid, this.budget()), callback);
  }

  /** Stores the session (SET with its TTL; SET XX for one loaded from the store). */
  override set(sid: string, session: SessionData): Promise<void>;
  override set(sid: string, session: SessionData, callback: StoreCallback): Promise<unknown>;
  override set(sid: string, session: SessionData, callback?: StoreCallback): Promise<unknown> {
    const { req } = session as { req?: object };
    return settle(this.writer.save(sid, session, this.budget(req), req), callback);
  }

  /**
   * Ends the session (SessionWriter.erase): reads it, removes its owner's index entry (ZREM,
   * when it has one), then deletes it if it still holds what was read. The entry goes first, so
   * an acknowledged destroy leaves nothing that serves, whatever runs alongside.
   */
  override destroy(sid: string): Promise<void>;
  override destroy(sid: string, callback: StoreCallback): Promise<unknown>;
  override destroy(sid: string, callback?: StoreCallback): Promise<unknown> {
    return settle(this.writer.erase(sid, this.budget()), callback);
  }

  /**
   * Restarts the session's idle TTL with its own max-age, checking its index entry as a read
   * does. The session loader calls it only when due (see SessionLifetime.touchIsDue).
   */
  override touch(sid: string, session: SessionData): Promise<void>;
  override touch(sid: string, session: SessionData, callback: StoreCallback): Promise<unknown>;
  override touch(sid: string, session: SessionData, callback?: StoreCallback): Promise<unknown> {
    const { req } = session as { req?: object };
    return settle(this.reader.restart(sid, session, this.budget(req)), callback);
  }

  /** The session as stored, TTL left as it is: one GET and PTTL (and its entry checked). */
  peek(sid: string): Promise<SessionData | null>;
  peek(sid: string, callback: StoreCallback<SessionData | null>): Promise<unknown>;
  peek(sid: string, callback?: StoreCallback<SessionData | null>): Promise<unknown> {
    const read = this.reader.snapshots([sid], this.budget());
    return settle(
      read.then(([snapshot]) => snapshot?.data ?? null),
      callback,
    );
  }

  override all(): Promise<ListedSession[]>;
  override all(callback: StoreCallback<ListedSession[]>): Promise<unknown>;
  override all(callback?: StoreCallback<ListedSession[]>): Promise<unknown> {
    return settle(this.listing.all(), callback);
  }

  ids(): Promise<string[]>;
  ids(callback: StoreCallback<string[]>): Promise<unknown>;
  ids(callback?: StoreCallback<string[]>): Promise<unknown> {
    return settle(this.listing.ids(), callback);
  }

  override length(): Promise<number>;
  override length(callback: StoreCallback<number>): Promise<unknown>;
  override length(callback?: StoreCallback<number>): Promise<unknown> {
    return settle(
      this.listing.ids().then((ids) => ids.length),
      callback,
    );
  }

  override clear(): Promise<void>;
  override clear(callback: StoreCallback): Promise<unknown>;
  override clear(callback?: StoreCallback): Promise<unknown> {
    return settle(this.listing.clear(), callback);
  }

  /** express-session's regenerate, on the request's budget (login, passport's logIn/logOut). */
  override regenerate(req: SessionRequest, callback: (err?: unknown) => void): void {
    const erased = this.writer.erase(req.sessionID!, this.budget(req), storedValueOf(req.session));
    erased.then(() => {
      this.generate(req);
      callback();
    }, callback);
  }

  /**
   * Carries the owner over to the `req.session` object built from loaded data (express-session's
   * `Session`).
   */
  override createSession(
    req: RequestWithSession,
    data: SessionData,
  ): ReturnType<Store['createSession']> {
    const owner = ownerOf(data);
    const session = super.createSession(req as never, data);
    carryLoadedState(data, session);
    holdFor(session, req.sessionID!);
    if (owner) bindOwner(session, owner);
    return session;
  }

  private budget(req?: object) {
    return budgetOf(req, this.operationTimeoutMs);
  }
}
