import { ConsoleLogger, Logger } from '@nestjs/common';
import type { SessionRevokedEvent } from '../options/session-revoked.event.js';
import { RevocationEvents } from './revocation-events.js';

const event: SessionRevokedEvent = {
  tenant: 'acme',
  userId: 'alice',
  reason: 'user',
  revoked: 2,
  sessions: [],
  at: new Date(0),
};

describe('RevocationEvents', () => {
  const errors: string[] = [];
  beforeAll(() => Logger.overrideLogger({ log() {}, warn() {}, error: (m) => errors.push(m) }));
  afterAll(() => Logger.overrideLogger(new ConsoleLogger()));
  beforeEach(() => (errors.length = 0));

  it('tells every listener in turn, awaiting each', async () => {
    const events = new RevocationEvents();
    const heard: string[] = [];
    events.listen(async (e) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      heard.push(`audit ${e.userId}`);
    });
    events.listen((e) => void heard.push(`relay ${e.userId}`));

    await events.notify(event);

    expect(heard).toEqual(['audit alice', 'relay alice']);
  });

  it('logs a listener that throws or rejects, and still tells the others', async () => {
    const events = new RevocationEvents();
    const heard: string[] = [];
    events.listen(() => {
      throw new Error('audit log is down');
    });
    events.listen(() => Promise.reject(new Error('webhook failed')));
    events.listen(() => void heard.push('relay'));

    await expect(events.notify(event)).resolves.toBeUndefined();

    expect(heard).toEqual(['relay']);
    expect(errors).toEqual([
      'onRevoked listener failed: audit log is down',
      'onRevoked listener failed: webhook failed',
    ]);
  });

  it('stops telling a listener once it unsubscribed', async () => {
    const events = new RevocationEvents();
    const heard: SessionRevokedEvent[] = [];
    const unsubscribe = events.listen((e) => void heard.push(e));
    await events.notify(event);
    unsubscribe();
    await events.notify(event);
    expect(heard).toEqual([event]);
  });
});
