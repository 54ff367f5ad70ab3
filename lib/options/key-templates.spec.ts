import { InvalidTenantSessionOptionsError } from '../errors/invalid-options.error.js';
import {
  checkKeyTemplates,
  checkTenantKeyPrefix,
  checkTenantKeyPrefixesApart,
} from './key-templates.js';

const INDEX = 'sessions-index:{tenant}:{app}:';
const KEYS = 'sessions:{tenant}:{app}:';

describe('key templates', () => {
  it.each([
    [KEYS, INDEX],
    ['sess:{app}:{tenant}:', 'idx:{app}:{tenant}:'],
    ['{tenant}/sessions/', '{tenant}/index/'],
    ['s:{tenant}.{app}.', 'i:{tenant}.{app}.'],
    ['{app}:s:{tenant}:', '{app}:i:{tenant}:'],
    ['s{{tenant}}:', 'i{{tenant}}:'],
    ['s{tenant}:', 's:idx:{tenant}:'],
  ])('accepts %s with %s', (keys, index) => {
    expect(() => checkKeyTemplates(keys, index)).not.toThrow();
  });

  it.each([
    ['no {tenant}', 'sessions:{app}:', INDEX],
    ['{tenant} last (acme + 2bob = acme2 + bob)', 'sess:{app}:{tenant}', INDEX],
    ['{tenant} followed by an id character', 'sess:{tenant}x:', INDEX],
    ['{tenant} followed by a hyphen', 'sess:{tenant}-{app}:', INDEX],
    ['placeholders run together', 'sess:{app}{tenant}:', INDEX],
    ['an index template with {tenant} last', KEYS, 'idx:{app}:{tenant}'],
    ['prefixes that start one another', 'sessions:{tenant}:', 'sessions:{tenant}:index:'],
    ['a session prefix that starts the index prefix', 's:{tenant}.', 's:{tenant}.idx.'],
    ['families parting where a tenant id starts (tenant "idx")', 's:{tenant}:', 's:idx:{tenant}:'],
    ['families parting inside an id', 's:{app}-idx:{tenant}:', 's:{app}-{tenant}:'],
    ['equal prefixes', KEYS, KEYS],
  ])('refuses %s', (_, keys, index) => {
    expect(() => checkKeyTemplates(keys, index)).toThrow(InvalidTenantSessionOptionsError);
  });

  it('says how to fix a placeholder without a separator', () => {
    expect(() => checkKeyTemplates('sess:{app}:{tenant}', INDEX)).toThrow(
      /"sess:\{app\}:\{tenant\}:"/,
    );
  });
});

describe("a tenant's own key prefix (a switch-over's `sess:`)", () => {
  const templates = { keyPrefix: KEYS, indexPrefix: INDEX };

  it.each(['sess:', 'myapp:sess:', 'legacy/'])('accepts %s beside the default templates', (p) => {
    expect(() => checkTenantKeyPrefix('tenantSettings[acme]', p, templates)).not.toThrow();
  });

  it.each([
    ['one that starts the module prefix', 'sessions'],
    ['one the module prefix starts (a tenant "x")', 'sessions:x:app:'],
    ['one that starts the index prefix', 'sessions-'],
    ['an empty one', ''],
    ['one with a space', 'my sess:'],
    ['not a string', 42],
  ])('refuses %s', (_, prefix) => {
    expect(() => checkTenantKeyPrefix('tenantSettings[acme]', prefix, templates)).toThrow(
      InvalidTenantSessionOptionsError,
    );
  });

  it("refuses two tenants' prefixes where one starts the other", () => {
    expect(() =>
      checkTenantKeyPrefixesApart([
        ['acme', 'sess:'],
        ['globex', 'sess:globex:'],
      ]),
    ).toThrow(/tenantSettings\[acme\]\.keyPrefix "sess:" and tenantSettings\[globex\]/);
    expect(() =>
      checkTenantKeyPrefixesApart([
        ['acme', 'acme-sess:'],
        ['globex', 'globex-sess:'],
      ]),
    ).not.toThrow();
  });
});
