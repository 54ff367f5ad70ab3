import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TenantSessionModuleOptions } from '../index.js';
import { CliUsageError } from './exit-codes.js';

/** The options every command takes (docs/cli.md). */
export interface GlobalOptions {
  config?: string;
  redisUrl?: string;
  timeout?: number;
  json?: boolean;
}

/**
 * The module's options for the CLI: the app's own, from `--config` (a JSON file, or a JS module
 * whose default export is the options object, part of it, or a function returning one), with
 * `--redis-url` for the default deployment and `--timeout` for `operationTimeoutMs` on top.
 * Redis, Sentinel, Cluster and `deployments` work as in the app, through the same module.
 */
export async function loadModuleOptions(
  global: GlobalOptions,
  { needsSecret }: { needsSecret: boolean },
): Promise<TenantSessionModuleOptions> {
  const given = global.config === undefined ? {} : await readConfig(global.config);
  const redis = global.redisUrl ?? given.redis;
  if (redis === undefined) {
    // The module would fall back to its in-process store: an empty one, in this process.
    throw new CliUsageError(
      'no Redis given: pass --redis-url redis://host:6379, or --config with the `redis` option',
    );
  }
  if (needsSecret && given.secret === undefined) {
    throw new CliUsageError(
      "this command verifies each session's owner with the app's secret: pass --config with " +
        'the `secret` option (and `tenantSettings` if tenants have their own)',
    );
  }
  return {
    ...given,
    // Requests resolve tenants; the CLI names them, so any strategy will do when none is given.
    tenant: given.tenant ?? { byHeader: 'x-tenant-id' },
    // Commands that do not read session owners need no secret: an unguessable one stands in.
    secret: given.secret ?? randomBytes(32).toString('base64url'),
    redis,
    ...(global.timeout === undefined ? {} : { operationTimeoutMs: global.timeout }),
    // An operator's reads must be fresh, and a tracking connection is of no use to one command.
    nearCache: false,
  };
}

async function readConfig(path: string): Promise<Partial<TenantSessionModuleOptions>> {
  const file = resolve(path);
  let loaded: unknown;
  try {
    if (extname(file) === '.json') loaded = JSON.parse(await readFile(file, 'utf8'));
    else {
      const module = (await import(pathToFileURL(file).href)) as { default?: unknown };
      loaded = module.default;
    }
    if (typeof loaded === 'function') loaded = await (loaded as () => unknown)();
  } catch (error) {
    throw new CliUsageError(`--config ${path}: ${(error as Error).message}`);
  }
  if (typeof loaded !== 'object' || loaded === null || Array.isArray(loaded)) {
    throw new CliUsageError(
      `--config ${path} must export the module's options as its default export: an object, or ` +
        'a function returning one (a JSON file: an object)',
    );
  }
  return loaded as Partial<TenantSessionModuleOptions>;
}
