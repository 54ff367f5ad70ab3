/**
 * The CLI's exit codes (docs/cli.md lists them), and the errors that choose one: scripts and
 * runbooks branch on them, so each cause has its own.
 */
export const ExitCode = {
  /** Done. */
  ok: 0,
  /** Failed: an unexpected error, or a confirmation declined. */
  failure: 1,
  /** Bad arguments, options or configuration file: nothing was done. */
  usage: 2,
  /** Redis did not answer (down, unreachable, too slow, too few replicas): retry later. */
  redisUnavailable: 3,
  /** Stopped by Ctrl-C (SIGINT) or SIGTERM (128 + SIGINT, as shells say): `index` can resume. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A mistake in how the CLI was called or configured (exit code 2). */
export class CliUsageError extends Error {
  readonly code = 'USAGE';
}

/** The operator declined a confirmation (exit code 1): nothing was done. */
export class CliDeclinedError extends Error {
  readonly code = 'DECLINED';
}

/** A command stopped by Ctrl-C or SIGTERM before it was complete (exit code 130). */
export class CliInterruptedError extends Error {
  readonly code = 'INTERRUPTED';
}

/**
 * A command that failed part-way, with where to continue from: its exit code and message are its
 * cause's, with `--resume <resume>` added.
 */
export class CliResumableError extends Error {
  constructor(
    cause: unknown,
    readonly resume: string,
  ) {
    super('stopped part-way', { cause });
  }
}
