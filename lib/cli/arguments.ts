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
  return wholeNumber(
    value,
    1,
    Number.MAX_SAFE_INTEGER,
    'a whole number of milliseconds, at least 1',
  );
}

/** A rate in keys per second: a whole number from 1 to 1,000,000. */
export function keysPerSecond(value: string): number {
  return wholeNumber(value, 1, 1_000_000, 'keys per second, a whole number from 1 to 1000000');
}

function wholeNumber(value: string, min: number, max: number, expected: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < min || number > max) {
    throw new InvalidArgumentError(`expected ${expected}`);
  }
  return number;
}
