import type { CliCommand } from '../cli-command.js';
import { indexCommand } from './index.command.js';
import { revokeTenantCommand } from './revoke-tenant.command.js';
import { revokeCommand } from './revoke.command.js';
import { sessionsListCommand } from './sessions-list.command.js';
import { statsCommand } from './stats.command.js';

/** Every command of the CLI, in the order `--help` lists them; a new command is one more file. */
export const COMMANDS: CliCommand[] = [
  sessionsListCommand,
  revokeCommand,
  revokeTenantCommand,
  statsCommand,
  indexCommand,
];
