/**
 * Counts password attempts per key in fixed windows. One interface, two stores: Redis (shared by
 * every instance of the sample) and this process (when the sample runs on the embedded store).
 */
export interface PasswordAttempts {
  /**
   * Counts one attempt under `key` in a window of `windowMs` (the first attempt opens it) and
   * says whether it is over `limit`, and how long until the window ends.
   */
  count(key: string, windowMs: number, limit: number): Promise<AttemptCount>;
}

/** Injection token of the PasswordAttempts store. */
export const PasswordAttempts = Symbol('PasswordAttempts');

export interface AttemptCount {
  /** More attempts than the limit in this window: refuse it. */
  refused: boolean;
  /** Milliseconds until the window ends and attempts are counted afresh. */
  windowLeftMs: number;
}

/**
 * The in-process store: a map of windows, each dropped when it ends. Windows are as long as
 * each other and inserted as they open, so the map is in order of their ends.
 */
export class LocalPasswordAttempts implements PasswordAttempts {
  private readonly windows = new Map<string, { hits: number; endsAt: number }>();

  async count(key: string, windowMs: number, limit: number): Promise<AttemptCount> {
    const now = Date.now();
    for (const [k, { endsAt }] of this.windows) {
      if (endsAt > now) break;
      this.windows.delete(k);
    }
    const window = this.windows.get(key) ?? { hits: 0, endsAt: now + windowMs };
    window.hits += 1;
    this.windows.set(key, window);
    return { refused: window.hits > limit, windowLeftMs: window.endsAt - now };
  }
}
