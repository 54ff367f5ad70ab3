import {
  bindOwner,
  fieldsForSave,
  forget,
  hasChanged,
  markStored,
  ownerOf,
  saveWithFields,
  sessionFields,
} from './session-state.js';
import type { SessionOwner } from './stored-session.js';

const owner: SessionOwner = { userId: 'alice', via: 'login', createdAt: 1, indexedUntil: 2 };

describe('session state', () => {
  it("stays out of the application's view of the session: keys, for...in, spread, JSON", () => {
    const session = { cookie: { path: '/' }, user: 'alice' };
    bindOwner(session, owner);
    markStored(session);

    const seen: string[] = [];
    for (const key in session) seen.push(key);
    expect(seen).toEqual(['cookie', 'user']);
    expect(Object.keys(session)).toEqual(['cookie', 'user']);
    expect({ ...session }).toEqual({ cookie: { path: '/' }, user: 'alice' });
    expect(Object.assign({}, session)).toEqual({ cookie: { path: '/' }, user: 'alice' });
    expect(JSON.parse(JSON.stringify(session))).toEqual({ cookie: { path: '/' }, user: 'alice' });
    expect(ownerOf(session)).toBe(owner);
  });

  it('is not carried by a copy of the session', () => {
    const session = { cookie: {}, user: 'alice' };
    bindOwner(session, owner);
    expect(ownerOf({ ...session })).toBeUndefined();
    expect(ownerOf(structuredClone(session))).toBeUndefined();
  });

  it('is kept for an object that cannot take new properties', () => {
    const session = Object.freeze({ cookie: {}, user: 'alice' });
    bindOwner(session, owner);
    markStored(session);
    expect(ownerOf(session)).toBe(owner);
    expect(hasChanged(session)).toBe(false);
  });

  it('is dropped by forget, and can be recorded again', () => {
    const session = { cookie: {}, user: 'alice' };
    bindOwner(session, owner);
    markStored(session);
    forget(session);
    expect(ownerOf(session)).toBeUndefined();
    expect(hasChanged(session)).toBe(true);
    bindOwner(session, owner);
    expect(ownerOf(session)).toBe(owner);
  });

  it('tells a change from the stored fields, the cookie left out', () => {
    const session: Record<string, unknown> = { cookie: { maxAge: 1 }, user: 'alice' };
    markStored(session);
    session.cookie = { maxAge: 2 };
    expect(hasChanged(session)).toBe(false);
    session.user = 'bob';
    expect(hasChanged(session)).toBe(true);
    expect(sessionFields(session)).toBe('{"user":"bob"}');
  });

  it("hands a commit's fields to the save it runs, and only while that save runs", () => {
    const session = { cookie: { path: '/' }, user: 'alice', count: 1 };
    const fields = sessionFields(session);
    let seen: string | undefined;
    saveWithFields(session, fields, () => {
      session.count = 2;
      seen = fieldsForSave(session);
    });

    expect(seen).toBe(fields);
    // A later save (the app's own, another commit) serializes the session as it is then.
    expect(fieldsForSave(session)).toBe(sessionFields(session));
    expect(JSON.parse(fieldsForSave(session))).toEqual({ user: 'alice', count: 2 });
  });

  it('forgets the fields when the save throws', () => {
    const session = { cookie: {}, user: 'alice' };
    expect(() =>
      saveWithFields(session, '{"user":"bob"}', () => {
        throw new Error('save failed');
      }),
    ).toThrow('save failed');
    expect(fieldsForSave(session)).toBe('{"user":"alice"}');
  });
});
