import { createInterface } from 'node:readline/promises';
import { CliDeclinedError, CliUsageError } from './exit-codes.js';

/**
 * Asks the operator to confirm a destructive command by typing `expected` back (a tenant id,
 * say): harder to do by reflex than "y". Without a terminal to ask on (a script, a pipe), the
 * command must carry `--yes` instead, so nothing destructive runs because stdin was closed.
 */
export async function confirmByTyping(question: string, expected: string): Promise<void> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new CliUsageError(
      `${question} No terminal to confirm on: pass --yes to confirm (nothing was done)`,
    );
  }
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(`${question} Type "${expected}" to confirm: `);
    if (answer.trim() !== expected) throw new CliDeclinedError('not confirmed: nothing was done');
  } finally {
    prompt.close();
  }
}
