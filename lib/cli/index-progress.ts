import type { IndexingCounts } from '../index.js';
import type { CliOutput } from './output.js';

/**
 * How `index` shows its progress on stderr (stdout keeps the result): on a terminal, one line
 * rewritten in place; otherwise (a log, a CI job) a plain line at most once a second; nothing
 * with `--json`. Not a bar: SCAN tells no total of a tenant's keys, and counting them first
 * would walk the keyspace twice, so a percentage would be made up.
 */
export interface ProgressView {
  update(counts: IndexingCounts): void;
  /** Clears the terminal line, so the result starts on a clean one. */
  end(): void;
}

/** Where the progress goes and how; `columns` is the terminal's width, when on one. */
export interface ProgressTarget {
  output: CliOutput;
  json: boolean;
  terminal?: { columns: number };
}

const PLAIN_EVERY_MS = 1000;
const CLEAR_LINE = '\r\x1b[2K';

export function progressView(
  tenant: string,
  dryRun: boolean,
  { output, json, terminal }: ProgressTarget,
): ProgressView {
  if (json) return { update() {}, end() {} };
  const started = performance.now();
  let shownAt = -Infinity;
  const line = (counts: IndexingCounts) => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? Math.round(counts.scanned / seconds) : 0;
    return `${tenant}: ${rate} keys/s, ${describeCounts(counts, dryRun)}`;
  };
  if (terminal) {
    return {
      // Cut to the width: a wrapped line could not be rewritten in place.
      update: (counts) => output.err(CLEAR_LINE + line(counts).slice(0, terminal.columns - 1)),
      end: () => output.err(CLEAR_LINE),
    };
  }
  return {
    update(counts) {
      if (performance.now() - shownAt < PLAIN_EVERY_MS) return;
      shownAt = performance.now();
      output.err(`${line(counts)}\n`);
    },
    end() {},
  };
}

/** The counts in words, as progress and as the result say them. */
export function describeCounts(counts: IndexingCounts, dryRun: boolean): string {
  return (
    `${counts.scanned} key(s) scanned, ${counts.indexed} ${dryRun ? 'to index' : 'indexed'}, ` +
    `${counts.alreadyIndexed} already indexed, ${counts.skippedWithoutIdentity} without ` +
    `identity, ${counts.refused} refused`
  );
}
