/**
 * A time limit on one piece of asynchronous work that has none of its own (a start-up check on a
 * client without a per-command timeout): the work's outcome, or `timedOut()` after `ms`,
 * whichever comes first. The work itself is not cancelled; its later outcome is ignored.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut()), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
