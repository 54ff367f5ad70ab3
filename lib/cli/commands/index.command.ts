import { indexExistingSessions, type IndexingResult, type SessionScanCursor } from '../../index.js';
import { keysPerSecond, tenantId } from '../arguments.js';
import type { CliCommand } from '../cli-command.js';
import type { GlobalOptions } from '../cli-config.js';
import { CliInterruptedError, CliResumableError } from '../exit-codes.js';
import { describeCounts, progressView } from '../index-progress.js';
import { listenForInterrupt } from '../interrupt.js';
import { json } from '../output.js';
import { formatResumeCursor, resumeCursor } from '../resume-cursor.js';
import { runWithSessionServices } from '../session-services.js';

/** The library's default pace: gentle on a Redis that serves traffic meanwhile. */
const DEFAULT_KEYS_PER_SECOND = 1000;

interface IndexOptions {
  tenant: string;
  rate: number;
  dryRun?: boolean;
  resume?: SessionScanCursor;
}

/**
 * `index --tenant <t> [--rate <keys/s>] [--dry-run] [--resume <cursor>]`: `indexExistingSessions`,
 * one paced walk of the tenant's session keys indexing the sessions plain express-session left,
 * so `revoke` covers them (docs/recipes/switching-from-express-session.md). Ctrl-C stops it after
 * the page in progress and prints the cursor `--resume` continues from (exit code 130).
 */
export const indexCommand: CliCommand = {
  register(program, output) {
    program
      .command('index')
      .description("Index a tenant's legacy express-session sessions, so revoke covers them")
      .requiredOption('--tenant <id>', 'the tenant (it must have adoptLegacySessions)', tenantId)
      .option(
        '--rate <keys/s>',
        'most session keys looked at per second',
        keysPerSecond,
        DEFAULT_KEYS_PER_SECOND,
      )
      .option('--dry-run', 'count what would be indexed, writing nothing')
      .option(
        '--resume <cursor>',
        'continue an interrupted run from the cursor it printed',
        resumeCursor,
      )
      .action(async ({ tenant, rate, dryRun = false, resume }: IndexOptions, command) => {
        const global = command.optsWithGlobals() as GlobalOptions;
        const asJson = global.json === true;
        const { isTTY, columns } = process.stderr;
        const progress = progressView(tenant, dryRun, {
          output,
          json: asJson,
          terminal: isTTY ? { columns: columns || 80 } : undefined,
        });
        const interruption = listenForInterrupt(() => {
          if (!asJson)
            output.err('\nStopping after the page in progress (Ctrl-C again to quit at once)\n');
        });
        let result: IndexingResult;
        let reached = resume;
        try {
          result = await runWithSessionServices(global, { needsSecret: true }, (app) =>
            indexExistingSessions(app, {
              tenant,
              keysPerSecond: rate,
              dryRun,
              resume,
              signal: interruption.signal,
              onProgress: (counts) => {
                reached = counts.cursor;
                progress.update(counts);
              },
            }),
          );
        } catch (error) {
          // A Redis failure part-way: the pages before it are indexed, the rest can follow.
          throw reached === undefined
            ? error
            : new CliResumableError(error, formatResumeCursor(reached));
        } finally {
          interruption.release();
          progress.end();
        }
        const { cursor, ...counts } = result;
        const resumeWith = cursor && formatResumeCursor(cursor);
        if (asJson) output.out(json({ tenant, dryRun, ...counts, resume: resumeWith }));
        else output.out(summary(tenant, dryRun, result));
        if (resumeWith !== undefined) {
          throw new CliInterruptedError(
            `stopped before the end: run the same command with --resume ${resumeWith} to finish`,
          );
        }
      });
  },
};

function summary(tenant: string, dryRun: boolean, result: IndexingResult): string {
  const what = dryRun ? 'Dry run (nothing written)' : 'Indexed';
  const state = result.done ? 'complete' : 'stopped';
  return `${what}, tenant ${tenant}, ${state}: ${describeCounts(result, dryRun)}\n`;
}
