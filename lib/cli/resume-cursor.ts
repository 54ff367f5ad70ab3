import { InvalidArgumentError } from 'commander';
import type { SessionScanCursor } from '../index.js';

/**
 * Where an interrupted `index` stopped, as one shell-safe word the operator pastes back into
 * `--resume`: `<SCAN cursor>@<master host:port>`, such as `1536@10.0.0.3:6379`. It names a Redis
 * master and a SCAN cursor, never a session.
 */

/** `cursor` as `--resume` takes it. */
export function formatResumeCursor({ node, cursor }: SessionScanCursor): string {
  return `${cursor}@${node}`;
}

/** Parses `--resume`; a malformed value is a usage error before anything connects. */
export function resumeCursor(value: string): SessionScanCursor {
  const at = value.indexOf('@');
  const cursor = value.slice(0, at);
  const node = value.slice(at + 1);
  if (at < 0 || !/^\d{1,20}$/.test(cursor) || !/^[\w.:[\]-]{1,300}$/.test(node)) {
    throw new InvalidArgumentError(
      'expected the cursor an interrupted run printed, such as 1536@10.0.0.3:6379',
    );
  }
  return { node, cursor };
}
