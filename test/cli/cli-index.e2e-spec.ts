import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli-process.js';
import {
  LEGACY_PREFIX,
  legacyApp,
  WhoAmIController,
  writeLegacySessions,
} from '../support/legacy-sessions.js';
import { useOwnRedisServer } from '../support/own-redis.js';
import { createTestApp } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';

/**
 * `nestjs-tenant-session index` as the people on call run it during a switch-over
 * (docs/recipes/switching-from-express-session.md): the built CLI in a child process, against a
 * real Redis holding sessions a real express-session + connect-redis app wrote (and, for counts
 * no test logs in one by one, the JSON it writes, written the same way).
 */

const APP = 'cliindex';
const SECRETS = ['cli-index-secret-0123456789abcdefghij'];
/** The switch-over recipe's settings. */
const recipe = () => ({
  secret: SECRETS,
  appName: APP,
  cookieName: 'connect.sid',
  tenantSettings: { acme: { keyPrefix: LEGACY_PREFIX } },
  adoptLegacySessions: { until: new Date(Date.now() + 7 * 24 * 3600_000).toISOString() },
});

describe('nestjs-tenant-session index (built, real Redis, sessions of a real express-session app)', () => {
  const own = useOwnRedisServer();
  let dir: string;
  let config: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tenant-session-cli-index-'));
    config = join(dir, 'adopting.config.mjs');
    await writeFile(
      config,
      `export default ${JSON.stringify({ ...recipe(), redis: own.server.url })};\n`,
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const indexArgs = (...args: string[]) => [
    '--config',
    config,
    'index',
    '--tenant',
    'acme',
    ...args,
  ];
  const index = (...args: string[]) => runCli(indexArgs(...args));
  const indexKeys = () => own.redis.keys('sessions-index:*');
  /** How many index entries there are, all users together. */
  const indexEntries = async () => {
    let entries = 0;
    for (const key of await indexKeys()) entries += await own.redis.zcard(key);
    return entries;
  };
  /** Resolves once the index holds more than `before` entries (polled, for at most 30 s). */
  const indexedPast = async (before: number) => {
    for (let i = 0; i < 600 && (await indexEntries()) <= before; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  /** Logs users in on the app as it was before the switch, plus one anonymous cart. */
  async function loggedInOnTheLegacyApp(users: string[]): Promise<Visitor[]> {
    const legacy = legacyApp(own.redis, SECRETS);
    const visitors: Visitor[] = [];
    for (const user of users) {
      const visitor = new Visitor(legacy, 'acme.test');
      await visitor.post(`/login/${user}`);
      visitors.push(visitor);
    }
    await new Visitor(legacy, 'acme.test').post('/cart');
    return visitors;
  }

  /** Every key in Redis with its value and whether it expires: what "nothing changed" compares. */
  async function snapshot(): Promise<Record<string, [string | null, boolean]>> {
    const keys = (await own.redis.keys('*')).sort();
    const entries = await Promise.all(
      keys.map(async (key) => [key, [await own.redis.get(key), (await own.redis.ttl(key)) > 0]]),
    );
    return Object.fromEntries(entries);
  }

  it('a dry run counts the legacy sessions and changes nothing in Redis', async () => {
    await loggedInOnTheLegacyApp(['alice', 'alice', 'bob']);
    const before = await snapshot();

    const run = await index('--dry-run', '--json');

    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(run.stdout)).toEqual({
      tenant: 'acme',
      dryRun: true,
      scanned: 4,
      indexed: 3,
      alreadyIndexed: 0,
      skippedWithoutIdentity: 1,
      refused: 0,
      done: true,
    });
    expect(await snapshot()).toEqual(before);
    expect(await indexKeys()).toEqual([]);

    const text = await index('--dry-run');
    expect(text.code).toBe(0);
    expect(text.stdout).toBe(
      'Dry run (nothing written), tenant acme, complete: 4 key(s) scanned, 3 to index, ' +
        '0 already indexed, 1 without identity, 0 refused\n',
    );
    // Off a terminal, progress comes as plain lines on stderr.
    expect(text.stderr).toMatch(/^acme: \d+ keys\/s, 4 key\(s\) scanned, 3 to index, /m);
    expect(text.stderr).not.toContain('\r');
    expect(await snapshot()).toEqual(before);
  });

  it('after a run, revoke ends every legacy session: the app answers 401', async () => {
    const [alicePhone, aliceLaptop, bob] = await loggedInOnTheLegacyApp(['alice', 'alice', 'bob']);

    const run = await index('--json');

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      indexed: 3,
      skippedWithoutIdentity: 1,
      done: true,
    });
    // No session read by the module since the switch: only the walk indexed them.
    const revoke = (user: string) =>
      runCli(['--config', config, '--json', 'revoke', '--tenant', 'acme', '--user', user]);
    const revokedAlice = await revoke('alice');
    const revokedBob = await revoke('bob');
    expect(JSON.parse(revokedAlice.stdout).revoked).toBe(2);
    expect(JSON.parse(revokedBob.stdout).revoked).toBe(1);
    // Deleted, not only refused on their next read: just the anonymous cart is left.
    expect(await own.redis.keys(`${LEGACY_PREFIX}*`)).toHaveLength(1);
    const nest = await createTestApp(
      { ...recipe(), redis: own.server.url },
      { controllers: [WhoAmIController] },
    );
    try {
      for (const visitor of [alicePhone, aliceLaptop, bob]) {
        expect((await visitor.on(nest.http).get('/whoami')).status).toBe(401);
      }
    } finally {
      await nest.close();
    }
  });

  it('Ctrl-C (or SIGTERM) mid-run stops at once and prints a cursor; --resume indexes the rest', async () => {
    await writeLegacySessions(own.redis, 30, 100, 0);
    const resumeOf = (text: string) => /--resume (\S+)/.exec(text)?.[1];

    // At 200 keys/s the walk waits about 5 s after each page of about 1000 keys: the SIGINT,
    // sent once the first page is reported, must not wait for that pause.
    const first = await runCli(indexArgs('--rate', '200'), { interruptOn: 'key(s) scanned' });
    expect(first.code).toBe(130);
    expect(first.stoppedMs).toBeLessThan(2000);
    expect(first.stdout).toMatch(/^Indexed, tenant acme, stopped: \d+ key\(s\) scanned, /);
    expect(first.stderr).toContain('Stopping after the page in progress');
    const cursor = resumeOf(first.stderr);
    expect(cursor).toMatch(/^\d+@127\.0\.0\.1:\d+$/);

    // Stopped again, by SIGTERM (a scheduler stopping a job) and with --json (no progress to
    // wait for: once Redis shows its first page indexed, in the pause after it; a fixed delay
    // raced the start-up on a loaded machine, whose SIGTERM then found no handler yet): the
    // answer is one JSON document holding the cursor.
    const indexedBefore = await indexEntries();
    const second = await runCli(indexArgs('--rate', '200', '--json', '--resume', cursor!), {
      interruptOn: () => indexedPast(indexedBefore),
      signal: 'SIGTERM',
    });
    expect(second.code).toBe(130);
    const stopped = JSON.parse(second.stdout);
    expect(stopped).toMatchObject({ done: false, resume: expect.stringMatching(/^\d+@/) });
    expect(JSON.parse(second.stderr).error).toEqual({
      code: 'INTERRUPTED',
      message: `stopped before the end: run the same command with --resume ${stopped.resume} to finish`,
    });

    const rest = await index('--rate', '1000000', '--json', '--resume', stopped.resume);
    expect(rest.code).toBe(0);
    const done = JSON.parse(rest.stdout);
    expect(done.done).toBe(true);
    expect(done.resume).toBeUndefined();
    // Every session indexed under its user, whichever of the three runs reached it.
    expect(await indexKeys()).toHaveLength(30);
    for (let u = 0; u < 30; u++) {
      expect(await own.redis.zcard(`sessions-index:acme:${APP}:u${u}`)).toBe(100);
    }
  });

  it('a Redis failure part-way: exit code 3 and the cursor to continue from, which finishes', async () => {
    // Six pages of about 1000 keys: on a loaded machine the first stall may come a page late,
    // and the second run must still have pages left after its first (with 3000 keys, one CI run
    // had none left, and finished).
    await writeLegacySessions(own.redis, 60, 100, 0);
    // Redis stops answering for 3 s (CLIENT PAUSE, far past --timeout) while the walk waits for
    // its pace after a page: the next page fails. --timeout 1000, not less: beside the rest of
    // the suite, a loaded machine answered a round trip before the pause in over 200 ms.
    const stall = (ms = 3000) => void own.redis.call('CLIENT', 'PAUSE', String(ms), 'ALL');

    let stalled = false;
    const text = await runCli(indexArgs('--timeout', '1000', '--rate', '1000'), {
      onStderr: (stderr) => {
        if (stalled || !stderr.includes('key(s) scanned')) return;
        stalled = true;
        stall();
      },
    });
    expect(text.code).toBe(3);
    expect(text.stderr).toMatch(
      /^nestjs-tenant-session: Redis unavailable \(.*\): run the command again once it answers \(continue with --resume \d+@127\.0\.0\.1:\d+\)$/m,
    );
    const cursor = /--resume (\d+@[\d.:]+)/.exec(text.stderr)![1];
    await own.redis.ping(); // answered once the pause is over

    // With --json (no progress to wait for: stalled once Redis shows its first page indexed, in
    // the 3.3 s pause after it at 300 keys/s; a fixed delay raced the CLI's start-up), the error
    // carries the cursor. Stalled for 6 s: the next page's request, up to 3.3 s later, must
    // still meet the stall for longer than --timeout.
    const stalling = indexedPast(await indexEntries()).then(() => stall(6000));
    const json = await runCli(
      indexArgs('--timeout', '1000', '--rate', '300', '--json', '--resume', cursor),
    );
    await stalling;
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stderr).error).toMatchObject({
      code: 'SESSION_STORE_UNAVAILABLE',
      resume: expect.stringMatching(/^\d+@127\.0\.0\.1:\d+$/),
    });
    await own.redis.ping();

    const rest = await index(
      '--json',
      '--rate',
      '1000000',
      '--resume',
      JSON.parse(json.stderr).error.resume,
    );
    expect(rest.code).toBe(0);
    expect(JSON.parse(rest.stdout).done).toBe(true);
    for (let u = 0; u < 60; u++) {
      expect(await own.redis.zcard(`sessions-index:acme:${APP}:u${u}`)).toBe(100);
    }
    // Three CLI runs and two stalls of 3 and 6 s.
  }, 60_000);

  it('--rate slows the walk to that many keys per second, and no further', async () => {
    await writeLegacySessions(own.redis, 30, 100, 0);

    const fast = await index('--dry-run', '--json', '--rate', '1000000');
    const slow = await index('--dry-run', '--json', '--rate', '500');

    expect(JSON.parse(fast.stdout).scanned).toBe(3000);
    expect(JSON.parse(slow.stdout).scanned).toBe(3000);
    // Paced on the keys seen before the last SCAN page, whose size SCAN chooses (a COUNT is a
    // hint): at least that long at 500 keys/s however fast the machine, where the unpaced walk
    // takes a fraction of a second; no longer than that plus start-up, which can vary by a
    // second or more between two processes on a busy machine.
    const pacedMs = ((await keysBeforeLastScanPage()) / 500) * 1000;
    expect(pacedMs).toBeGreaterThanOrEqual(2000);
    expect(slow.ms).toBeGreaterThanOrEqual(pacedMs);
    expect(slow.ms - fast.ms).toBeLessThan(pacedMs + 3000);
  });

  /** The keys a walk of the legacy sessions sees before its last page (SCAN as the CLI sends it). */
  async function keysBeforeLastScanPage(): Promise<number> {
    const pages: number[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await own.redis.scan(
        cursor,
        'MATCH',
        `${LEGACY_PREFIX}*`,
        'COUNT',
        1000,
      );
      pages.push(keys.length);
      cursor = next;
    } while (cursor !== '0');
    return pages.slice(0, -1).reduce((sum, keys) => sum + keys, 0);
  }

  it('on a terminal, shows its progress on one line rewritten in place', async () => {
    await writeLegacySessions(own.redis, 30, 100, 0);

    const run = await runCli(
      ['--config', config, 'index', '--tenant', 'acme', '--dry-run', '--rate', '3000'],
      {
        terminal: true,
      },
    );

    expect(run.code).toBe(0);
    // Through `script`, stderr comes on its stdout: each update clears the line and rewrites it.
    const updates = run.stdout.split('\r\x1b[2K').filter((part) => part.startsWith('acme: '));
    expect(updates.length).toBeGreaterThan(1);
    expect(updates.every((update) => !update.includes('\n'))).toBe(true);
    expect(run.stdout).toContain('Dry run (nothing written), tenant acme, complete: 3000 key(s)');
  });

  it('refuses a tenant without adoptLegacySessions: exit code 2, naming the option', async () => {
    await loggedInOnTheLegacyApp(['alice']);
    const plain = join(dir, 'plain.config.mjs');
    await writeFile(
      plain,
      `export default ${JSON.stringify({ ...recipe(), adoptLegacySessions: undefined, redis: own.server.url })};\n`,
    );

    const run = await runCli(['--config', plain, 'index', '--tenant', 'acme']);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'tenant acme does not adopt legacy sessions: set adoptLegacySessions',
    );
    expect(run.stdout).toBe('');
    expect(await indexKeys()).toEqual([]);
  });

  it.each([
    ['a malformed --resume', ['--resume', '{"node":"127.0.0.1:6379"}']],
    ['a --rate of 0', ['--rate', '0']],
    ['a --rate that is no number', ['--rate', 'fast']],
  ])('answers %s with exit code 2 and the usage, connecting nowhere', async (_, args) => {
    const run = await runCli([
      '--redis-url',
      'redis://127.0.0.1:1',
      'index',
      '--tenant',
      'acme',
      ...args,
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--help');
    expect(run.ms).toBeLessThan(5000);
  });
});
