/**
 * Ctrl-C for a long command: the first SIGINT (or SIGTERM, as a scheduler stops a job) aborts
 * `signal`, so the command stops cleanly and says how to resume; the second one finds Node's
 * default behaviour back and ends the process at once.
 */
export interface Interruption {
  signal: AbortSignal;
  /** Stops listening (the command is over). */
  release(): void;
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** Listens for the first interrupt; `onInterrupt` says what happens next. */
export function listenForInterrupt(onInterrupt: () => void): Interruption {
  const controller = new AbortController();
  const release = () => {
    for (const name of SIGNALS) process.off(name, interrupt);
  };
  const interrupt = () => {
    release();
    controller.abort();
    onInterrupt();
  };
  for (const name of SIGNALS) process.on(name, interrupt);
  return { signal: controller.signal, release };
}
