/** One Redis command as sent: its name, then its arguments. */
export type Command = [name: string, ...args: (string | number)[]];

/** A pipeline's replies, in order; the first error among them is thrown. */
export function unwrap(results: [Error | null, unknown][] | null): unknown[] {
  if (!results) throw new Error('Pipeline was discarded');
  return results.map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}
