import { InvalidTenantSessionOptionsError } from '../errors/invalid-options.error.js';
import { adoptionWindowEnd, MAX_ADOPTION_WINDOW_MS } from './legacy-session-adoption.js';

describe('adoptLegacySessions', () => {
  const now = Date.parse('2026-12-06T00:00:00Z');

  it('is off unless given', () => {
    expect(adoptionWindowEnd('adoptLegacySessions', undefined, now)).toBeUndefined();
    expect(adoptionWindowEnd('adoptLegacySessions', false, now)).toBeUndefined();
  });

  it('takes a Date or an ISO 8601 date as the window end', () => {
    const until = '2027-01-31T00:00:00Z';
    expect(adoptionWindowEnd('a', { until }, now)).toBe(Date.parse(until));
    expect(adoptionWindowEnd('a', { until: new Date(until) }, now)).toBe(Date.parse(until));
  });

  it('accepts a window that has ended (adoption is then off), so a restart still starts', () => {
    expect(adoptionWindowEnd('a', { until: '2026-01-01T00:00:00Z' }, now)).toBeLessThan(now);
  });

  it.each([
    ['no until', {}],
    ['a date no Date holds', { until: 'next week' }],
    ['a number', { until: 1_800_000_000_000 }],
    ['true', true],
  ])('refuses %s, naming the shape', (_, value) => {
    expect(() => adoptionWindowEnd('adoptLegacySessions', value as never, now)).toThrow(
      /adoptLegacySessions must be \{ until \}/,
    );
  });

  it('refuses a window longer than 90 days: adoption is a switch-over, not a mode', () => {
    const until = new Date(now + MAX_ADOPTION_WINDOW_MS + 1000);
    expect(() => adoptionWindowEnd('adoptLegacySessions', { until }, now)).toThrow(
      InvalidTenantSessionOptionsError,
    );
  });
});
