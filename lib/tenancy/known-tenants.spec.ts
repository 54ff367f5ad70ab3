import { KnownTenants } from './known-tenants.js';

describe('known tenants', () => {
  it('answers from a fixed list', async () => {
    const known = new KnownTenants(['acme', 'globex']);
    expect(await known.has('acme')).toBe(true);
    expect(await known.has('initech')).toBe(false);
  });

  it('asks a lookup once per id while its answer holds: yes for 5 minutes, no for 30 s', async () => {
    let now = 0;
    const asked: string[] = [];
    const known = new KnownTenants(
      async (tenant) => {
        asked.push(tenant);
        return tenant === 'acme';
      },
      () => now,
    );
    expect(await known.has('acme')).toBe(true);
    expect(await known.has('ghost')).toBe(false);
    now = 29_000;
    expect(await known.has('acme')).toBe(true);
    expect(await known.has('ghost')).toBe(false);
    expect(asked).toEqual(['acme', 'ghost']);
    now = 31_000;
    expect(await known.has('ghost')).toBe(false);
    expect(await known.has('acme')).toBe(true);
    expect(asked).toEqual(['acme', 'ghost', 'ghost']);
    now = 301_000;
    expect(await known.has('acme')).toBe(true);
    expect(asked).toEqual(['acme', 'ghost', 'ghost', 'acme']);
  });

  it('shares one lookup between concurrent questions about the same id', async () => {
    let calls = 0;
    const known = new KnownTenants(async () => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 10));
      return true;
    });
    expect(await Promise.all([known.has('acme'), known.has('acme'), known.has('acme')])).toEqual([
      true,
      true,
      true,
    ]);
    expect(calls).toBe(1);
  });

  it('does not cache a failed lookup, and counts only a literal true as known', async () => {
    let fail = true;
    const known = new KnownTenants(async (tenant) => {
      if (fail) throw new Error('directory down');
      return (tenant === 'acme' ? true : 'yes') as boolean;
    });
    await expect(known.has('acme')).rejects.toThrow('directory down');
    fail = false;
    expect(await known.has('acme')).toBe(true);
    expect(await known.has('truthy')).toBe(false);
  });
});
