import { OwnerSeals } from './owner-seals.js';
import { SessionOwnership } from './session-owner.js';
import type { SessionOwner } from './stored-session.js';
import { quietNestLogger } from './tenant-sessions.fixture.js';

const owner: SessionOwner = { userId: 'alice', via: 'login', createdAt: 1, indexedUntil: 2 };
const OLD = 'old-secret-0123456789abcdef';
const NEW = 'new-secret-0123456789abcdef';
const SCOPE = 'sessions:acme:app:';
const passportUser = (session: Record<string, unknown>) =>
  (session.passport as { user?: unknown } | undefined)?.user;
const ownership = (secrets = [NEW, OLD], scope = SCOPE) =>
  new SessionOwnership(new OwnerSeals(secrets, scope), passportUser, () => 1_000);

describe('SessionOwnership', () => {
  quietNestLogger();

  describe('interpret: what stored JSON means', () => {
    const owners = ownership();
    const stored = (data: object, sid = 'sid-1') => owners.encode(sid, data, undefined);
    const sealedBy = (by: SessionOwnership, who: SessionOwner, data: object, sid = 'sid-1') =>
      by.encode(sid, data, who);

    it('owned: a verified owner whose data claims the same user', () => {
      const raw = sealedBy(
        owners,
        { ...owner, via: 'identity' },
        { cookie: {}, passport: { user: 'alice' } },
      );
      expect(owners.interpret('sid-1', raw)).toMatchObject({
        verdict: 'owned',
        owner: { userId: 'alice' },
      });
    });

    it("owned: a login's owner, whatever the data says", () => {
      const raw = sealedBy(owners, owner, { cookie: {}, passport: { user: 'mallory' } });
      expect(owners.interpret('sid-1', raw)?.verdict).toBe('owned');
    });

    it('anonymous: no identity and no owner, or an owner whose identity went', () => {
      expect(owners.interpret('sid-1', stored({ cookie: {} }))?.verdict).toBe('anonymous');
      const raw = sealedBy(owners, { ...owner, via: 'identity' }, { cookie: {} });
      expect(owners.interpret('sid-1', raw)).toMatchObject({
        verdict: 'anonymous',
        owner: { userId: 'alice' },
      });
    });

    it.each([
      ['an identity with no owner', stored({ cookie: {}, passport: { user: 'alice' } })],
      [
        'an identity other than its owner',
        sealedBy(
          owners,
          { ...owner, via: 'identity' },
          { cookie: {}, passport: { user: 'admin' } },
        ),
      ],
      ['an owner sealed for another session', sealedBy(owners, owner, { cookie: {} }, 'sid-2')],
      [
        'an owner sealed with another secret',
        sealedBy(ownership(['other-secret-0123456789ab']), owner, { cookie: {} }),
      ],
      ['an owner not shaped like one', JSON.stringify({ cookie: {}, _owner: { userId: 7 } })],
    ])('refused: %s', (_, raw) => {
      expect(owners.interpret('sid-1', raw)?.verdict).toBe('refused');
    });

    it('corrupt: undefined', () => {
      expect(owners.interpret('sid-1', '{not json')).toBeUndefined();
    });
  });
});
