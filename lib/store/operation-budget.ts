/**
 * How long one unit of work may still wait on Redis, across all its round trips: a request's
 * session work (load, save, login) or one service call (revokeAll, list, ...). A step that
 * starts with nothing left fails before anything is sent.
 */
export class OperationBudget {
  private spentMs = 0;

  constructor(
    readonly limitMs: number,
    /** The tenant whose work this is, when there is one (for telemetry). */
    readonly tenant?: string,
  ) {}

  get remainingMs(): number {
    return this.limitMs - this.spentMs;
  }

  spend(ms: number): void {
    this.spentMs += ms;
  }
}

/**
 * For work whose number of round trips grows with the data, such as a SCAN of the keyspace
 * (a store's `all`, `length`, `clear`): each round trip may wait `limitMs`, however many there are.
 */
export class RoundTripBudget extends OperationBudget {
  override spend(): void {}
}
