import { SessionLifecycle, type LoginEvent, type LogoutEvent } from './session-lifecycle.js';

const login: LoginEvent = {
  tenant: 'acme',
  deployment: 'default',
  userId: 'alice',
  userSessions: 1,
};
const logout: LogoutEvent = {
  tenant: 'acme',
  deployment: 'default',
  userId: 'alice',
  sid: 'a'.repeat(32),
};

describe('SessionLifecycle', () => {
  it('tells every listener: one added never replaces another', async () => {
    const lifecycle = new SessionLifecycle();
    const heard: string[] = [];
    lifecycle.listen({ loggedIn: (e) => void heard.push(`cap ${e.userId}`) });
    lifecycle.listen({
      loggedIn: (e) => void heard.push(`relay in ${e.userId}`),
      loggedOut: (e) => void heard.push(`relay out ${e.userId}`),
    });

    await lifecycle.loggedIn(login);
    lifecycle.loggedOut(logout);

    expect(heard).toEqual(['cap alice', 'relay in alice', 'relay out alice']);
  });

  it('awaits each login listener before the next, and before the login answers', async () => {
    const lifecycle = new SessionLifecycle();
    const heard: string[] = [];
    lifecycle.listen({
      loggedIn: async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        heard.push('slow');
      },
    });
    lifecycle.listen({ loggedIn: () => void heard.push('next') });

    await lifecycle.loggedIn(login);

    expect(heard).toEqual(['slow', 'next']);
  });

  it('lets a login listener fail the login (the session cap)', async () => {
    const lifecycle = new SessionLifecycle();
    lifecycle.listen({
      loggedIn: () => {
        throw new Error('cap failed');
      },
    });
    await expect(lifecycle.loggedIn(login)).rejects.toThrow('cap failed');
  });

  it('stops telling a listener once removed', async () => {
    const lifecycle = new SessionLifecycle();
    const heard: LogoutEvent[] = [];
    const stop = lifecycle.listen({ loggedOut: (e) => void heard.push(e) });
    lifecycle.loggedOut(logout);
    stop();
    lifecycle.loggedOut(logout);
    await lifecycle.loggedIn(login);
    expect(heard).toEqual([logout]);
  });
});
