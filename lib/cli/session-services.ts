import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TenantSessionModule, type TenantSessionModuleOptions } from '../index.js';
import { loadModuleOptions, type GlobalOptions } from './cli-config.js';

/**
 * Runs one command inside a Nest application context holding the module as the app configures
 * it, so the CLI revokes and lists through the module's own protocol (not-before markers,
 * replica waits, revocation events to the app's instances), never with commands of its own.
 * Nest's logger is off: the CLI reports what happened itself, and a log line could otherwise
 * land in the middle of a `--json` answer. The context is closed whatever happens (connections
 * quit, so the process ends).
 */
export async function withSessionServices<T>(
  options: TenantSessionModuleOptions,
  run: (services: INestApplicationContext) => Promise<T>,
): Promise<T> {
  const context = await NestFactory.createApplicationContext(TenantSessionModule.forRoot(options), {
    logger: false,
    abortOnError: false,
  });
  try {
    return await run(context);
  } finally {
    await context.close();
  }
}

/** `withSessionServices` with the module's options from the command line and its config file. */
export async function runWithSessionServices<T>(
  global: GlobalOptions,
  needs: { needsSecret: boolean },
  run: (services: INestApplicationContext) => Promise<T>,
): Promise<T> {
  return withSessionServices(await loadModuleOptions(global, needs), run);
}
