import type { Redis } from 'ioredis';
import { Deployments } from '../../lib/store/deployments.js';
import type { SessionBackend } from '../../lib/store/session-backend.interface.js';
import { OperationBudget } from '../../lib/store/operation-budget.js';
import { useOwnRedisServer } from '../support/own-redis.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

/**
 * Write coalescing (lib/store/redis/write-coalescing.ts), on the connection the module makes: a
 * command on an idle connection leaves at once; commands sent while others await their replies
 * leave together, in one write, at the end of the event-loop turn.
 */
describe('write coalescing', () => {
  const own = useOwnRedisServer();
  let t: TestApp;
  let backend: SessionBackend;
  let socket: Redis['stream'];
  const load = (sid: string) =>
    backend.keys
      .read(
        `sessions:acme:wc:${sid}`,
        { mode: 'always', ttlMs: 60_000 },
        undefined,
        new OperationBudget(5_000),
      )
      .then((read) => read.value);
  const readsByServer = async () =>
    Number(/^total_reads_processed:(\d+)/m.exec(await own.redis.info('stats'))![1]);
  const endOfTurn = () => new Promise((resolve) => setImmediate(resolve));

  beforeAll(async () => {
    t = await createTestApp({ appName: 'wc', redis: own.server.url });
    backend = t.app.get(Deployments).get();
    socket = (backend.lifecycle.pubSubClient as Redis).stream;
  });
  afterAll(() => t?.close());

  it('a command on an idle connection is written at once', async () => {
    const reply = load('idle');
    expect(socket.writableCorked).toBe(0);
    expect(socket.writableLength).toBe(0); // handed to the kernel already
    await expect(reply).resolves.toBeNull();
  });

  it('commands sent while one awaits its reply leave in one write at the end of the turn', async () => {
    await own.redis.set('sessions:acme:wc:s3', 'three');
    const before = await readsByServer();
    const first = load('s1');
    const held = [load('s2'), load('s3'), load('s4'), load('s5')];
    expect(socket.writableCorked).toBe(1);
    await endOfTurn();
    expect(socket.writableCorked).toBe(0);
    expect(await Promise.all([first, ...held])).toEqual([null, null, 'three', null, null]);
    // The first command's read, the four held ones' single read, and this INFO's own: one each.
    // Sent one by one, the held four would be up to four reads.
    expect((await readsByServer()) - before).toBeLessThanOrEqual(3);
  });

  it('once the replies are in, the connection is idle again and writes at once', async () => {
    await Promise.all([load('a'), load('b')]);
    const reply = load('c');
    expect(socket.writableCorked).toBe(0);
    await reply;
  });
});
