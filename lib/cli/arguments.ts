import { InvalidArgumentError } from 'commander';
import { normalizeTenantId, TENANT_ID_PATTERN } from '../index.js';

/**
 * Parsers of option values, so a malformed one is a usage error (exit code 2) before anything
 * connects to Redis.
 */

/** A tenant id as the module accepts it (A-Z lower-cased). */
export function tenantId(value: string): string {
  const id = normalizeTenantId(value);
  if (id === undefined)
    throw new InvalidArgumentError(`expected a tenant id (${TENANT_ID_PATTERN})`);
  return id;
}

/** A whole number of milliseconds, at least 1. */
export function milliseconds(value: string): number {
  const ms = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(ms) || ms < 1) {
    throw new InvalidArgumentError('expected a whole number of milliseconds, at least 1');
  }
  return ms;
}
