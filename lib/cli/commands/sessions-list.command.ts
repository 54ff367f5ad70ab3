import type { ActiveSession } from '../../index.js';
import { SessionRevocationService, MAX_SESSION_PAGE_LIMIT } from '../../index.js';
import { tenantId } from '../arguments.js';
import { commandGroup, type CliCommand } from '../cli-command.js';
import type { GlobalOptions } from '../cli-config.js';
import { json, mask, table, when } from '../output.js';
import { runWithSessionServices } from '../session-services.js';

/** Pages a listing may walk: 100,000 sessions, far past any user's cap. */
const MAX_PAGES = 100;

/**
 * `sessions list --tenant <t> --user <u>`: a user's live sessions, as
 * `SessionRevocationService.list` returns them (every page), each id masked.
 */
export const sessionsListCommand: CliCommand = {
  register(program, output) {
    commandGroup(program, 'sessions', "Inspect users' sessions")
      .command('list')
      .description("List a user's live sessions in a tenant (ids masked)")
      .requiredOption('--tenant <id>', 'the tenant', tenantId)
      .requiredOption('--user <id>', 'the user id, as the app logs users in')
      .action(async ({ tenant, user }: { tenant: string; user: string }, command) => {
        const global = command.optsWithGlobals() as GlobalOptions;
        const sessions = await runWithSessionServices(global, { needsSecret: true }, (app) =>
          listAll(app.get(SessionRevocationService), tenant, user),
        );
        const listed = sessions.map(({ current: _current, id, ...session }) => ({
          id: mask(id),
          ...session,
        }));
        if (global.json) {
          output.out(json({ tenant, user, total: listed.length, sessions: listed }));
          return;
        }
        output.out(`${listed.length} live session(s) of user ${user} in tenant ${tenant}\n`);
        if (listed.length === 0) return;
        output.out(
          table(
            ['ID', 'LOGIN', 'LAST SEEN', 'EXPIRES', 'IP', 'USER AGENT'],
            listed.map((s) => [
              s.id,
              when(s.createdAt),
              when(s.lastSeenAt),
              when(s.expiresAt),
              s.ip ?? '',
              (s.userAgent ?? '').slice(0, 60),
            ]),
          ),
        );
      });
  },
};

/** Every page, one entry per session (a session renewed during the walk may come twice). */
async function listAll(
  service: SessionRevocationService,
  tenant: string,
  user: string,
): Promise<ActiveSession[]> {
  const byId = new Map<string, ActiveSession>();
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const found = await service.list(tenant, user, { limit: MAX_SESSION_PAGE_LIMIT, cursor });
    for (const session of found.sessions) byId.set(session.id, session);
    cursor = found.nextCursor;
    if (cursor === undefined) break;
  }
  return [...byId.values()].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
}
