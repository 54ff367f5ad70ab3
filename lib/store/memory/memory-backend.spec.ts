import { jest } from '@jest/globals';
import { OperationBudget } from '../operation-budget.js';
import { MemoryBackend } from './memory-backend.js';

const budget = () => new OperationBudget(1_000);

/**
 * The in-process store keeps one clock. A long-lived process's wall clock drifts from the
 * monotonic one (NTP slews it, a VM's pauses step it): a TTL set by one and read by the other
 * came back stretched (CI: 1504 ms left of 1500). The drift is simulated by moving Date.now().
 */
describe('MemoryBackend', () => {
  let backend: MemoryBackend;
  beforeEach(() => (backend = new MemoryBackend()));
  afterEach(async () => {
    jest.restoreAllMocks();
    await backend.lifecycle.close();
  });

  const driftWallClock = (byMs: number) => {
    const wall = Date.now.bind(Date);
    jest.spyOn(Date, 'now').mockImplementation(() => wall() + byMs);
  };

  it.each([-5_000, 5_000])(
    'sets and reads expiries by its own clock whatever Date.now() says (drift %i ms)',
    async (drift) => {
      driftWallClock(drift);
      const at = backend.lifecycle.now() + 1_500;
      await backend.keys.write(
        { key: 'by-ttl', value: 'x', ttlMs: 2_000, onlyIfExists: false },
        budget(),
      );
      await backend.keys.write(
        { key: 'by-instant', value: 'x', ttlMs: 60_000, expiresAt: at, onlyIfExists: false },
        budget(),
      );
      const [byTtl, byInstant] = await backend.keys.inspect(['by-ttl', 'by-instant'], budget());
      expect(byTtl.ttlMs).toBeGreaterThan(1_990);
      expect(byTtl.ttlMs).toBeLessThanOrEqual(2_000);
      expect(byInstant.ttlMs).toBeGreaterThan(1_490);
      expect(byInstant.ttlMs).toBeLessThanOrEqual(1_500);
    },
  );

  it('expires a key when its own clock passes the expiry, not when the wall clock does', async () => {
    await backend.keys.write({ key: 'k', value: 'x', ttlMs: 100, onlyIfExists: false }, budget());
    driftWallClock(60_000);
    const [stillThere] = await backend.keys.inspect(['k'], budget());
    expect(stillThere.value).toBe('x');
    await new Promise((resolve) => setTimeout(resolve, 150));
    const [gone] = await backend.keys.inspect(['k'], budget());
    expect(gone.value).toBeNull();
  });
});
