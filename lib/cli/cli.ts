import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import {
  InvalidTenantSessionOptionsError,
  InvalidUserIdException,
  SessionStoreUnavailableException,
} from '../index.js';
import { milliseconds } from './arguments.js';
import { COMMANDS } from './commands/index.js';
import { CliInterruptedError, CliResumableError, CliUsageError, ExitCode } from './exit-codes.js';
import { json, processOutput, type CliOutput } from './output.js';

/** The package's version, from its package.json (two folders up from dist/cli/). */
const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/**
 * The `nestjs-tenant-session` command for operators: parses `argv` with commander, runs the
 * command, and answers with the exit code its outcome has (exit-codes.ts). Errors go to stderr,
 * as JSON with `--json`.
 */
export async function runCli(argv: string[], output: CliOutput = processOutput): Promise<ExitCode> {
  const program = new Command('nestjs-tenant-session')
    .description('Operate nestjs-tenant-session: list, revoke, count and index sessions')
    .version(version)
    .option('--config <path>', "the module's options: a JSON file, or a JS module exporting them")
    .option('--redis-url <url>', 'the Redis of the default deployment (overrides the config)')
    .option(
      '--timeout <ms>',
      "each Redis step's time limit (the module's operationTimeoutMs)",
      milliseconds,
    )
    .option('--json', 'answer in JSON on stdout (errors in JSON on stderr)')
    .showHelpAfterError('(add --help for usage)')
    // Thrown, not exited: the exit code is chosen below, once everything is closed.
    .exitOverride()
    .configureOutput({ writeOut: output.out, writeErr: output.err });
  for (const command of COMMANDS) command.register(program, output);
  try {
    await program.parseAsync(argv);
    return ExitCode.ok;
  } catch (error) {
    // Commander has written its own message (or the help, or the version).
    if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    const resume = error instanceof CliResumableError ? error.resume : undefined;
    const failure = error instanceof CliResumableError ? error.cause : error;
    const code = exitCodeOf(failure);
    const message = messageOf(failure);
    if (program.opts().json) {
      const name = (failure as { code?: unknown }).code;
      output.err(
        json({ error: { code: typeof name === 'string' ? name : 'FAILED', message, resume } }),
      );
    } else {
      const then = resume === undefined ? '' : ` (continue with --resume ${resume})`;
      output.err(`nestjs-tenant-session: ${message}${then}\n`);
    }
    return code;
  }
}

function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof SessionStoreUnavailableException) return ExitCode.redisUnavailable;
  if (error instanceof CliInterruptedError) return ExitCode.interrupted;
  if (
    error instanceof CliUsageError ||
    error instanceof InvalidTenantSessionOptionsError ||
    error instanceof InvalidUserIdException
  ) {
    return ExitCode.usage;
  }
  return ExitCode.failure;
}

/** What went wrong, in words; the lib's messages hold no session data, ids or keys. */
function messageOf(error: unknown): string {
  if (error instanceof SessionStoreUnavailableException) {
    return `Redis unavailable (${error.reason}): run the command again once it answers`;
  }
  if (error instanceof InvalidUserIdException) return `--user: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
