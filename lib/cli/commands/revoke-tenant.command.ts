import { SessionRevocationService } from '../../index.js';
import { tenantId } from '../arguments.js';
import type { CliCommand } from '../cli-command.js';
import type { GlobalOptions } from '../cli-config.js';
import { confirmByTyping } from '../confirm.js';
import { json } from '../output.js';
import { runWithSessionServices } from '../session-services.js';

/**
 * `revoke-tenant --tenant <t> [--yes]`: `SessionRevocationService.revokeTenant`, every session
 * and index of the tenant (off-boarding, or a breach). Asked for on a terminal, `--yes`
 * otherwise; confirmed before anything connects.
 */
export const revokeTenantCommand: CliCommand = {
  register(program, output) {
    program
      .command('revoke-tenant')
      .description('Revoke every session of a tenant (asks first unless --yes)')
      .requiredOption('--tenant <id>', 'the tenant', tenantId)
      .option('--yes', 'confirm without asking (required when not on a terminal)')
      .action(async ({ tenant, yes }: { tenant: string; yes?: boolean }, command) => {
        const global = command.optsWithGlobals() as GlobalOptions;
        if (!yes) {
          await confirmByTyping(`This signs out every user of tenant ${tenant}.`, tenant);
        }
        const removed = await runWithSessionServices(global, { needsSecret: false }, (app) =>
          app.get(SessionRevocationService).revokeTenant(tenant),
        );
        output.out(
          global.json
            ? json({ tenant, removedKeys: removed })
            : `Revoked tenant ${tenant}: ${removed} key(s) removed (sessions and indexes)\n`,
        );
      });
  },
};
