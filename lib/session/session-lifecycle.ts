/** A session got a user: stored and confirmed, however it logged in. */
export interface LoginEvent {
  tenant: string;
  /** The tenant's Redis deployment. */
  deployment: string;
  userId: string;
  /** The user's live index entries as its admission counted them, this one included. */
  userSessions: number;
  /** The request that logged in, when there was one (its budget is the login's). */
  req?: object;
}

/** A session stopped belonging to a user: destroyed, or saved without that identity. */
export interface LogoutEvent {
  tenant: string;
  deployment: string;
  userId: string;
  sid: string;
}

/** Hears of logins and logouts, whatever made them (the module's parts wire theirs in). */
export interface SessionLifecycleListener {
  /** Awaited before the login answers (the session cap). */
  loggedIn?(event: LoginEvent): Promise<void> | void;
  /** Not awaited (the live sign-out of sockets). */
  loggedOut?(event: LogoutEvent): void;
}

/**
 * Every listener of session logins and logouts, for every tenant. The module adds them at start
 * (the session cap, the event relay); each tenant's writer tells them. A set, not a slot: a
 * listener added never replaces another.
 */
export class SessionLifecycle {
  private readonly listeners = new Set<SessionLifecycleListener>();

  /** Adds a listener; returns the function that removes it. */
  listen(listener: SessionLifecycleListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async loggedIn(event: LoginEvent): Promise<void> {
    for (const listener of this.listeners) await listener.loggedIn?.(event);
  }

  loggedOut(event: LogoutEvent): void {
    for (const listener of this.listeners) listener.loggedOut?.(event);
  }
}
