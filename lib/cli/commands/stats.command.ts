import { SessionStatsService, type DeploymentStats, type TenantStats } from '../../index.js';
import { tenantId } from '../arguments.js';
import type { CliCommand } from '../cli-command.js';
import type { GlobalOptions } from '../cli-config.js';
import { bytes, json, table } from '../output.js';
import { runWithSessionServices } from '../session-services.js';

/**
 * `stats [--tenant <t>]`: sessions and indexes per tenant (`SessionStatsService`), and the
 * memory of each deployment's Redis servers; one tenant's counts with `--tenant`. Walks the
 * keyspace with SCAN: cheap per round trip, but O(keys), so not for a monitoring loop.
 */
export const statsCommand: CliCommand = {
  register(program, output) {
    program
      .command('stats')
      .description('Sessions and indexes per tenant, and Redis memory (walks the keyspace)')
      .option('--tenant <id>', 'only this tenant', tenantId)
      .action(async ({ tenant }: { tenant?: string }, command) => {
        const global = command.optsWithGlobals() as GlobalOptions;
        const stats = await runWithSessionServices(
          global,
          { needsSecret: false },
          (app): Promise<DeploymentStats[] | TenantStats> => {
            const service = app.get(SessionStatsService);
            return tenant === undefined ? service.all() : service.tenant(tenant);
          },
        );
        if (global.json) output.out(json('tenant' in stats ? stats : { deployments: stats }));
        else if ('tenant' in stats) output.out(tenantTable([stats]));
        else output.out(stats.map(deploymentText).join('\n'));
      });
  },
};

function deploymentText({ deployment, memory, tenants }: DeploymentStats): string {
  const servers = memory.map(
    (m) =>
      `  ${m.server}: ${bytes(m.usedBytes)} used of ${m.maxBytes > 0 ? bytes(m.maxBytes) : 'no limit'}` +
      ` (maxmemory-policy ${m.policy})\n`,
  );
  const counts = tenants.length > 0 ? tenantTable(tenants) : 'no sessions\n';
  return `Deployment ${deployment}\n${servers.join('')}${counts}`;
}

function tenantTable(tenants: TenantStats[]): string {
  return table(
    ['TENANT', 'SESSIONS', 'INDEXES', 'INDEX ENTRIES'],
    tenants.map((t) => [t.tenant, String(t.sessions), String(t.indexes), String(t.indexEntries)]),
  );
}
