import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUDGET_UNDER_LOAD_MS, TEST_HOSTS, TEST_SECRET } from './test-app.js';
import type { TestPlatform } from './testing-app.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPTS = join(ROOT, 'test/support');
const BUILT = join(ROOT, 'dist/index.js');
const START_LIMIT_MS = 20_000;

export interface AppProcessSettings {
  redis: string;
  appName: string;
  /** BUDGET_UNDER_LOAD_MS unless given, as createTestApp's: a stall is not the test's subject. */
  operationTimeoutMs?: number;
  /** Another app script in test/support (default app-process.mjs), e.g. ws-app-process.mjs. */
  script?: string;
  idleTtl?: number;
  /** The child app's HTTP platform (child-app.mjs); Express by default. */
  platform?: TestPlatform;
}

/** An app in a process of its own (see app-process.mjs), on the acme.test / globex.test hosts. */
export interface AppProcess {
  /** `http://127.0.0.1:<port>`, for supertest or a Visitor. */
  url: string;
  /** SIGKILL, now (synchronous): the process gets no chance to finish anything. */
  kill(): void;
  /** Kills it if it still runs and resolves once it has exited. */
  stop(): Promise<void>;
}

/**
 * Starts app-process.mjs with `process.execPath`. It runs the compiled library, so dist/ must be
 * built from the current lib/ (`npm test` builds it first); fails with how to fix otherwise.
 */
export async function startAppProcess({
  script = 'app-process.mjs',
  operationTimeoutMs = BUDGET_UNDER_LOAD_MS,
  ...settings
}: AppProcessSettings): Promise<AppProcess> {
  assertBuilt();
  const child = spawn(
    process.execPath,
    [
      join(SCRIPTS, script),
      JSON.stringify({ hosts: TEST_HOSTS, secret: TEST_SECRET, operationTimeoutMs, ...settings }),
    ],
    // jest's --experimental-vm-modules is of no use to a plain Node process.
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const port = await announcedPort(child);
    return {
      url: `http://127.0.0.1:${port}`,
      kill: () => void child.kill('SIGKILL'),
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await exited;
      },
    };
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  }
}

function announcedPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`The app process ${why}. Its stderr:\n${stderr}`));
    };
    const timer = setTimeout(
      () => fail(`did not listen within ${START_LIMIT_MS} ms`),
      START_LIMIT_MS,
    );
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((l) => l.startsWith('{"port"'));
      if (!line) return;
      clearTimeout(timer);
      resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code, signal) => fail(`exited (${signal ?? code}) before listening`));
  });
}

/** The child imports dist/; a missing or outdated build would test other code than lib/. */
function assertBuilt(): void {
  if (!existsSync(BUILT)) {
    throw new Error(
      'dist/index.js is missing: run `npm run build` first (`npm test` does it before the tests).',
    );
  }
  const builtAt = statSync(BUILT).mtimeMs;
  const newer = librarySources(join(ROOT, 'lib')).find((file) => statSync(file).mtimeMs > builtAt);
  if (newer) {
    throw new Error(
      `dist/ is older than ${relative(ROOT, newer)}: run \`npm run build\` first (\`npm test\` does it before the tests).`,
    );
  }
}

function librarySources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /(?<!\.spec|\.fixture)\.ts$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}
