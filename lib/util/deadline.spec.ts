import { withDeadline } from './deadline.js';

describe('withDeadline', () => {
  it('settles as the work does when it is in time, and clears its timer', async () => {
    await expect(withDeadline(Promise.resolve(7), 1000, () => new Error('late'))).resolves.toBe(7);
    await expect(
      withDeadline(Promise.reject(new Error('failed')), 1000, () => new Error('late')),
    ).rejects.toThrow('failed');
  });

  it('rejects with the given error once the time is up, whatever the work does later', async () => {
    let finish!: (value: number) => void;
    const work = new Promise<number>((resolve) => (finish = resolve));
    const started = Date.now();
    await expect(withDeadline(work, 50, () => new Error('too slow'))).rejects.toThrow('too slow');
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    finish(1);
  });
});
