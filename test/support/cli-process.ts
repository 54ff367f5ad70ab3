import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The CLI as built (`npm run build`), as package.json's `bin` runs it. */
export const BUILT_CLI = join(ROOT, 'dist/cli/main.js');
const RUN_LIMIT_MS = 30_000;

/** How one run of the CLI ended. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** The signal that ended it, when one did (then `code` is null). */
  signal: NodeJS.Signals | null;
  /** With `interruptOn`: milliseconds from the signal to the exit (absent: never sent). */
  stoppedMs?: number;
}

/**
 * Runs the built CLI in a child process with `args`. `terminal`: on a pseudo-terminal (util-linux
 * `script`), typing `answer` once the prompt shows; otherwise stdin is empty and not a terminal,
 * as in a script or a pipe. `interruptOn`: sends `signal` (default SIGINT, Ctrl-C) once stderr
 * contains it (a string) or once it resolves (a function, called at the start: a state of Redis
 * the run reaches, where a fixed delay would race the CLI's start-up on a loaded machine).
 * `onStderr`: told all of stderr so far at each write. Killed (and the test fails) after 30 s.
 */
export function runCli(
  args: string[],
  {
    terminal,
    answer,
    interruptOn,
    signal = 'SIGINT',
    onStderr,
  }: {
    terminal?: boolean;
    answer?: string;
    interruptOn?: string | (() => Promise<unknown>);
    signal?: NodeJS.Signals;
    onStderr?: (stderr: string) => void;
  } = {},
): Promise<CliRun> {
  if (!existsSync(BUILT_CLI)) {
    throw new Error(`${BUILT_CLI} is missing: run \`npm run build\` before the CLI tests`);
  }
  const command = [process.execPath, BUILT_CLI, ...args];
  const child = terminal
    ? spawn('script', ['-qec', command.map(shellQuote).join(' '), '/dev/null'], {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, NODE_OPTIONS: '' },
      })
    : spawn(command[0], command.slice(1), {
        stdio: ['ignore', 'pipe', 'pipe'],
        // jest's --experimental-vm-modules is of no use to a plain Node process.
        env: { ...process.env, NODE_OPTIONS: '' },
      });
  const started = performance.now();
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let answered = false;
    let interruptedAt: number | undefined;
    const interrupt = () => {
      if (interruptedAt !== undefined) return;
      interruptedAt = performance.now();
      child.kill(signal);
    };
    let outlived = false;
    const timer = setTimeout(() => {
      outlived = true;
      child.kill('SIGKILL');
    }, RUN_LIMIT_MS);
    if (typeof interruptOn === 'function') interruptOn().then(interrupt, reject);
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      // On a terminal the prompt comes through `script`'s stdout.
      if (terminal && answer !== undefined && !answered && stdout.includes('to confirm: ')) {
        answered = true;
        child.stdin?.write(`${answer}\n`);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (typeof interruptOn === 'string' && stderr.includes(interruptOn)) interrupt();
      onStderr?.(stderr);
    });
    child.once('error', reject);
    child.once('close', (code, signalName) => {
      clearTimeout(timer);
      if (outlived) reject(new Error(`the CLI outlived ${RUN_LIMIT_MS} ms:\n${stderr}`));
      else {
        const ended = performance.now();
        const stoppedMs = interruptedAt === undefined ? undefined : ended - interruptedAt;
        resolve({ code, signal: signalName, stdout, stderr, ms: ended - started, stoppedMs });
      }
    });
  });
}

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
