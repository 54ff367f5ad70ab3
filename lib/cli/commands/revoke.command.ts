import { SessionRevocationService } from '../../index.js';
import { tenantId } from '../arguments.js';
import type { CliCommand } from '../cli-command.js';
import type { GlobalOptions } from '../cli-config.js';
import { json } from '../output.js';
import { runWithSessionServices } from '../session-services.js';

/**
 * `revoke --tenant <t> --user <u>`: `SessionRevocationService.revokeAll`, so logins in flight
 * are refused too, the app's instances end the user's sockets, and the answer comes once the
 * replicas the module waits for have it.
 */
export const revokeCommand: CliCommand = {
  register(program, output) {
    program
      .command('revoke')
      .description('Revoke every session of a user in a tenant ("sign out everywhere")')
      .requiredOption('--tenant <id>', 'the tenant', tenantId)
      .requiredOption('--user <id>', 'the user id, as the app logs users in')
      .action(async ({ tenant, user }: { tenant: string; user: string }, command) => {
        const global = command.optsWithGlobals() as GlobalOptions;
        const revoked = await runWithSessionServices(global, { needsSecret: false }, (app) =>
          app.get(SessionRevocationService).revokeAll(tenant, user),
        );
        output.out(
          global.json
            ? json({ tenant, user, revoked })
            : `Revoked ${revoked} session(s) of user ${user} in tenant ${tenant}\n`,
        );
      });
  },
};
