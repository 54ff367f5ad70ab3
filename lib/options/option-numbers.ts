/** The numeric checks options share: counts and session durations. */
import { InvalidTenantSessionOptionsError } from '../errors/invalid-options.error.js';
import { MAX_SESSION_AGE_SECONDS } from './session-age-limit.js';

export function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new InvalidTenantSessionOptionsError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/** A session duration in seconds: a TTL, a Date and a session id must all carry it. */
export function sessionSeconds(name: string, value: number): number {
  positiveInteger(name, value);
  if (value > MAX_SESSION_AGE_SECONDS) {
    throw new InvalidTenantSessionOptionsError(
      `${name} must be at most ${MAX_SESSION_AGE_SECONDS} (1000 years), got ${value}`,
    );
  }
  return value;
}
