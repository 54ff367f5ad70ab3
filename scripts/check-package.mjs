// The package as a user gets it: builds and packs it, installs the tarball into a fresh ES module
// app and a fresh CommonJS app (Node's require(esm)), each outside this tree so nothing resolves
// from our own node_modules, and runs both against a throwaway redis-server: log in over HTTP,
// read a guarded route with the returned cookie, find the session and its index in Redis. Then
// runs the package's CLI with npx (its help, then a listing and a revocation of that session),
// and type-checks README.md's TypeScript quick start, as written, in the fresh ES module app.
// Plain Node and npm (and redis-server, redis-cli), nothing else.
//
// Usage: node scripts/check-package.mjs   (KEEP_CHECK_DIRS=1 keeps the temp apps)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
const step = (message) => console.log(`check-package [${elapsed()}] ${message}`);

/** A fresh app's dependencies besides the tarball: the peers, as `npm install` of them gives. */
const PEERS = {
  '@nestjs/common': '^12.0.0',
  '@nestjs/core': '^12.0.0',
  '@nestjs/platform-express': '^12.0.0',
  'reflect-metadata': '^0.2.0',
  rxjs: '^7.8.0',
};

// The environment of `npm run check:package` carries npm_* settings of this project; a fresh
// app must not inherit them.
const cleanEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')),
);

const work = await mkdtemp(join(tmpdir(), 'nestjs-tenant-session-check-'));
/** @type {{ stop(): Promise<void> } | undefined} */
let redis;
let failed = false;
try {
  step(`node ${process.version}, work dir ${work}`);
  await run('npm', ['run', 'build'], { cwd: root });
  const packed = JSON.parse(
    await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: root }),
  );
  const tarball = join(work, packed[0].filename);
  const shipped = packed[0].files.map((file) => file.path);
  for (const expected of ['LICENSE', 'README.md', 'package.json', 'dist/index.js']) {
    if (!shipped.includes(expected)) throw new Error(`the tarball lacks ${expected}`);
  }
  const strays = shipped.filter(
    (path) => !/^(dist\/|LICENSE$|README\.md$|package\.json$)/.test(path),
  );
  if (strays.length > 0) throw new Error(`the tarball ships more than dist/: ${strays.join(', ')}`);
  step(`packed ${basename(tarball)} (${shipped.length} files)`);

  const apps = [
    { name: 'esm-app', kind: 'module', main: 'main.mjs', devDependencies: { typescript: '~6.0' } },
    { name: 'cjs-app', kind: 'commonjs', main: 'main.cjs', devDependencies: {} },
  ];
  await Promise.all(apps.map((app) => createApp(app, tarball)));
  step('installed both apps');

  redis = await startRedisServer();
  const secret = randomBytes(24).toString('base64url'); // 32 characters
  for (const app of apps) {
    await run('redis-cli', ['-u', redis.url, 'flushall'], { cwd: work });
    const output = await run(process.execPath, [app.main], {
      cwd: join(work, app.name),
      env: { ...cleanEnv, REDIS_URL: redis.url, SESSION_SECRET: secret },
      timeoutMs: 60_000,
    });
    // The session lives in this Redis, under the documented keys, not in a fallback store.
    const keys = (await run('redis-cli', ['-u', redis.url, '--scan'], { cwd: work })).split('\n');
    if (!keys.some((key) => key.startsWith('sessions:acme:app:'))) {
      throw new Error(`${app.name} stored no session in Redis; keys: ${keys.join(' ')}`);
    }
    if (!keys.includes('sessions-index:acme:app:alice')) {
      throw new Error(`${app.name} indexed no session for alice; keys: ${keys.join(' ')}`);
    }
    step(`${app.name} (${app.kind}): ${output.trim().split('\n').at(-1)}`);
  }

  await checkCli(join(work, 'esm-app'), redis.url, secret);
  step("npx nestjs-tenant-session: --help, sessions list and revoke of the last app's login");

  await checkQuickStart(join(work, 'esm-app'));
  step("README.md's quick start compiles (tsc --noEmit, strict)");
  step('all checks passed');
} catch (error) {
  failed = true;
  console.error(
    `check-package FAILED [${elapsed()}]: ${error instanceof Error ? error.message : error}`,
  );
  process.exitCode = 1;
} finally {
  await redis?.stop();
  if (failed || process.env.KEEP_CHECK_DIRS) console.error(`check-package: apps kept in ${work}`);
  else await rm(work, { recursive: true, force: true });
}

/**
 * @param {{ name: string, kind: string, main: string, devDependencies: Record<string, string> }} app
 * @param {string} tarball
 */
async function createApp({ name, kind, main, devDependencies }, tarball) {
  const dir = join(work, name);
  await mkdir(dir);
  const manifest = {
    name,
    private: true,
    type: kind,
    dependencies: { 'nestjs-tenant-session': `file:${tarball}`, ...PEERS },
    devDependencies,
  };
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await writeFile(join(dir, main), appSource(kind));
  await run('npm', ['install', '--no-audit', '--no-fund'], { cwd: dir, env: cleanEnv });
}

/**
 * A Nest app in plain JavaScript (decorators applied as functions) that checks itself: it
 * listens on a free loopback port, logs a user in, reads a guarded route with the cookie, and
 * exits 0 only once everything it opened is closed (a leaked handle shows as a timeout).
 * @param {string} kind 'module' or 'commonjs'
 */
function appSource(kind) {
  const imports = {
    'node:http': ['request'],
    'node:assert/strict': ['deepStrictEqual', 'equal', 'match'],
    '@nestjs/common': ['Body', 'Controller', 'Get', 'Inject', 'Module', 'Post', 'Req'],
    '@nestjs/core': ['APP_GUARD', 'NestFactory'],
    'nestjs-tenant-session': [
      'Public',
      'Session',
      'SessionAuthGuard',
      'SessionLoginService',
      'SessionUserId',
      'Tenant',
      'TenantSessionModule',
    ],
  };
  const header =
    kind === 'module'
      ? [
          "import 'reflect-metadata';",
          ...Object.entries(imports).map(
            ([from, names]) => `import { ${names.join(', ')} } from '${from}';`,
          ),
        ]
      : [
          "require('reflect-metadata');",
          ...Object.entries(imports).map(
            ([from, names]) => `const { ${names.join(', ')} } = require('${from}');`,
          ),
        ];
  return `${header.join('\n')}

class AccountController {
  constructor(logins) {
    this.logins = logins;
  }
  async login(req, body) {
    await this.logins.login(req, body.user, { data: { name: body.name } });
    return { loggedIn: body.user };
  }
  me(userId, name, tenant) {
    return { userId, name, tenant };
  }
}
const method = (key) => [
  AccountController.prototype,
  key,
  Object.getOwnPropertyDescriptor(AccountController.prototype, key),
];
Inject(SessionLoginService)(AccountController, undefined, 0);
Controller()(AccountController);
Public()(...method('login'));
Post('login')(...method('login'));
Req()(AccountController.prototype, 'login', 0);
Body()(AccountController.prototype, 'login', 1);
Get('me')(...method('me'));
SessionUserId()(AccountController.prototype, 'me', 0);
Session('name')(AccountController.prototype, 'me', 1);
Tenant()(AccountController.prototype, 'me', 2);

class AppModule {}
Module({
  imports: [
    TenantSessionModule.forRoot({
      tenant: { byHost: { 'acme.test': 'acme' } },
      secret: process.env.SESSION_SECRET,
      redis: process.env.REDIS_URL,
    }),
  ],
  controllers: [AccountController],
  providers: [{ provide: APP_GUARD, useClass: SessionAuthGuard }],
})(AppModule);

function send(port, method, path, { host, cookie, body } = {}) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers = { host };
  if (cookie) headers.cookie = cookie;
  if (payload) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, headers, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function main() {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  try {
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address();

    const login = await send(port, 'POST', '/login', {
      host: 'acme.test',
      body: { user: 'alice', name: 'Alice' },
    });
    equal(login.status, 201, 'POST /login: ' + login.text);
    const cookie = (login.headers['set-cookie'] ?? [])[0]?.split(';')[0];
    match(cookie ?? '', /^sid=s%3A/, 'POST /login sets the signed session cookie');

    const me = await send(port, 'GET', '/me', { host: 'acme.test', cookie });
    equal(me.status, 200, 'GET /me with the cookie: ' + me.text);
    deepStrictEqual(JSON.parse(me.text), { userId: 'alice', name: 'Alice', tenant: 'acme' });

    const anonymous = await send(port, 'GET', '/me', { host: 'acme.test' });
    equal(anonymous.status, 401, 'GET /me without a cookie: ' + anonymous.text);

    const unknown = await send(port, 'GET', '/me', { host: 'globex.test', cookie });
    equal(unknown.status, 404, 'GET /me on an unknown host: ' + unknown.text);
  } finally {
    await app.close();
  }
  console.log('login, guarded read, 401 without a session, 404 for an unknown tenant: ok');
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
`;
}

/**
 * The installed `bin` as an operator runs it (`npx nestjs-tenant-session`, shebang and all):
 * its help, then the session the last app left for alice, listed (id masked) and revoked.
 * @param {string} dir
 * @param {string} redisUrl
 * @param {string} secret
 */
async function checkCli(dir, redisUrl, secret) {
  const cli = (...args) =>
    run('npx', ['nestjs-tenant-session', ...args], { cwd: dir, env: cleanEnv });
  const help = await cli('--help');
  for (const command of ['sessions', 'revoke', 'revoke-tenant', 'stats']) {
    if (!help.includes(command)) throw new Error(`the CLI's help lacks ${command}:\n${help}`);
  }
  await writeFile(
    join(dir, 'tenant-session.config.mjs'),
    `export default ${JSON.stringify({ secret, redis: redisUrl })};\n`,
  );
  const common = ['--config', 'tenant-session.config.mjs', '--json'];
  const listed = JSON.parse(
    await cli(...common, 'sessions', 'list', '--tenant', 'acme', '--user', 'alice'),
  );
  if (listed.total !== 1 || !/^.{4}…$/.test(listed.sessions[0]?.id)) {
    throw new Error(`the CLI listed ${JSON.stringify(listed)}, not alice's one session, masked`);
  }
  const revoked = JSON.parse(await cli(...common, 'revoke', '--tenant', 'acme', '--user', 'alice'));
  if (revoked.revoked !== 1) throw new Error(`the CLI revoked ${JSON.stringify(revoked)}`);
}

/**
 * Writes the TypeScript blocks of README.md's "Quick start" section into the app's src/, each
 * under the file name its first line gives (`// app.module.ts`), and type-checks them as written;
 * only the user's own `checkPassword` is declared.
 * @param {string} dir
 */
async function checkQuickStart(dir) {
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const section = /^## Quick start\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
  if (!section) throw new Error('README.md has no "## Quick start" section');
  const blocks = [...section.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((found) => found[1]);
  if (blocks.length === 0) throw new Error("README.md's quick start has no ```ts block");
  await mkdir(join(dir, 'src'));
  for (const block of blocks) {
    const file = /^\/\/ ([\w.-]+\.ts)\n/.exec(block)?.[1];
    if (!file) throw new Error(`a quick start block does not start with "// <file>.ts":\n${block}`);
    await writeFile(join(dir, 'src', file), block);
  }
  await writeFile(
    join(dir, 'src', 'check-password.d.ts'),
    'declare function checkPassword(\n  username: string,\n  password: string,\n' +
      '): Promise<{ id: string; name: string }>;\n',
  );
  const tsconfig = {
    compilerOptions: {
      module: 'nodenext',
      moduleResolution: 'nodenext',
      target: 'es2023',
      strict: true,
      // Consumers who type-check dependencies' declarations too (ioredis 6.1 needs @types/redis-errors).
      skipLibCheck: false,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      noEmit: true,
    },
    include: ['src'],
  };
  await writeFile(join(dir, 'tsconfig.json'), `${JSON.stringify(tsconfig, null, 2)}\n`);
  await run(process.execPath, [join(dir, 'node_modules/typescript/bin/tsc'), '-p', dir], {
    cwd: dir,
    env: cleanEnv,
  });
}

/**
 * A throwaway redis-server on a free loopback port, without persistence; retried when another
 * process takes the port between the probe and the start.
 * @returns {Promise<{ url: string, stop(): Promise<void> }>}
 */
async function startRedisServer() {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let log = '';
    const outcome = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve('timed out'), 10_000);
      const settle = (result) => {
        clearTimeout(timer);
        resolve(result);
      };
      child.stdout.on('data', (chunk) => {
        log += chunk;
        if (log.includes('Ready to accept connections')) settle('ready');
      });
      child.stderr.on('data', (chunk) => (log += chunk));
      child.once('error', (error) =>
        settle(`could not start (is it installed?): ${error.message}`),
      );
      child.once('exit', (code) => settle(`exited with ${code}`));
    });
    if (outcome === 'ready') {
      child.stdout.resume();
      child.stderr.resume();
      step(`redis-server on port ${port}`);
      return {
        url: `redis://127.0.0.1:${port}`,
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGKILL');
          await exited;
        },
      };
    }
    child.kill('SIGKILL');
    if (!/address already in use/i.test(log) || attempt === 5) {
      throw new Error(`redis-server ${outcome}:\n${log}`);
    }
  }
}

/** @returns {Promise<number>} a loopback port nobody listens on right now */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (probe.address());
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Runs a command; resolves with its stdout, rejects with its output when it fails or outlives
 * `timeoutMs` (then it is killed).
 * @param {string} command
 * @param {string[]} args
 * @param {{ cwd: string, env?: NodeJS.ProcessEnv, timeoutMs?: number }} options
 * @returns {Promise<string>}
 */
function run(command, args, { cwd, env = process.env, timeoutMs = 300_000 }) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let output = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      output += chunk;
    });
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const what = `\`${basename(command)} ${args.join(' ')}\` in ${cwd}`;
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${what} could not start: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else if (signal === 'SIGKILL') {
        reject(new Error(`${what} did not finish within ${timeoutMs / 1000} s:\n${output}`));
      } else reject(new Error(`${what} failed (${signal ?? `exit ${code}`}):\n${output}`));
    });
  });
}
