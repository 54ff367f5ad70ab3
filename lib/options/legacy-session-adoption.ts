import { InvalidTenantSessionOptionsError } from '../errors/invalid-options.error.js';
import type { LegacySessionAdoption } from './tenant-session-options.interface.js';

/**
 * The longest adoption window, from start-up: revoked users' not-befores are kept until its end,
 * and identities written outside the module are trusted until then, so it must stay a switch-over.
 */
export const MAX_ADOPTION_WINDOW_MS = 90 * 24 * 3600 * 1000;

/**
 * Checks `adoptLegacySessions` (module or tenant) and returns the window's end, ms epoch, or
 * undefined for none. A window that has ended is valid (adoption is then off): an app restarted
 * after its switch-over must still start.
 */
export function adoptionWindowEnd(
  where: string,
  adoption: LegacySessionAdoption | false | undefined,
  now = Date.now(),
): number | undefined {
  if (adoption === undefined || adoption === false) return undefined;
  const until = typeof adoption === 'object' && adoption !== null ? adoption.until : undefined;
  const end = until instanceof Date || typeof until === 'string' ? new Date(until).getTime() : NaN;
  if (!Number.isFinite(end)) {
    throw new InvalidTenantSessionOptionsError(
      `${where} must be { until } with a Date or an ISO 8601 date, e.g. ` +
        `{ until: new Date('2027-01-31T00:00:00Z') }`,
    );
  }
  if (end - now > MAX_ADOPTION_WINDOW_MS) {
    throw new InvalidTenantSessionOptionsError(
      `${where}.until must be at most 90 days ahead: adoption is for a switch-over; ` +
        'run indexExistingSessions to index what is left, and end the window',
    );
  }
  return end;
}
