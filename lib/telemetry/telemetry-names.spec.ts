import { readFileSync } from 'node:fs';
import { ATTRIBUTES, METRICS, REDIS_OPERATIONS, SPANS } from './telemetry-names.js';

describe('the telemetry names', () => {
  const page = readFileSync('docs/observability.md', 'utf8');

  it.each([
    ...Object.values(METRICS),
    SPANS.login,
    SPANS.revocation,
    ...Object.values(ATTRIBUTES),
    ...REDIS_OPERATIONS,
  ])('%s is documented in docs/observability.md', (name) => {
    expect(page).toContain(`\`${name}\``);
  });

  it('names no metric twice', () => {
    expect(new Set(Object.values(METRICS)).size).toBe(Object.values(METRICS).length);
  });
});
