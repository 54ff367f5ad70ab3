import { InvalidTenantSessionOptionsError } from '../errors/invalid-options.error.js';

/** Characters tenant ids and app names may contain: a placeholder must end before any other. */
const ID_CHARACTER = /[a-z0-9-]/;
const PLACEHOLDER = /\{(tenant|app)\}/g;
const ANY_ID = '\u0000';

/**
 * Checks the `keyPrefix` / `indexPrefix` templates. Every tenant's keys and every user's index
 * must stay disjoint from every other's, so: `{tenant}` is required, and each placeholder is
 * followed by a literal character ids cannot contain (with `sess:{app}:{tenant}`, tenant `acme`
 * and user `2bob` would share the key of tenant `acme2` and user `bob`); and neither prefix may
 * start the other (a SCAN of one would find the other's keys).
 */
export function checkKeyTemplates(keyPrefix: string, indexPrefix: string): void {
  checkTemplate('keyPrefix', keyPrefix);
  checkTemplate('indexPrefix', indexPrefix);
  const [sessions, indexes] = [keyPrefix, indexPrefix].map((t) => t.replace(PLACEHOLDER, ANY_ID));
  if (couldStart(sessions, indexes) || couldStart(indexes, sessions)) {
    throw new InvalidTenantSessionOptionsError(
      `keyPrefix "${keyPrefix}" and indexPrefix "${indexPrefix}" can overlap: for some tenant, ` +
        "one family's prefix starts the other's (a SCAN for one tenant's sessions would find " +
        "indexes, or another tenant's keys). Make them differ before any placeholder, e.g. " +
        '"sessions:{tenant}:{app}:" and "sessions-index:{tenant}:{app}:"',
    );
  }
}

/** Longest tenant key prefix: it is part of every key of the tenant's sessions. */
const MAX_TENANT_PREFIX_LENGTH = 200;

/**
 * Checks a tenant's own session key prefix (`tenantSettings[tenant].keyPrefix`, say the `sess:`
 * its plain express-session used): printable, and disjoint from the module's templates, so no
 * other tenant's sessions or indexes, nor this tenant's indexes, fall under it, and a SCAN of
 * it finds this tenant's sessions alone.
 */
export function checkTenantKeyPrefix(
  where: string,
  prefix: unknown,
  templates: { keyPrefix: string; indexPrefix: string },
): void {
  if (
    typeof prefix !== 'string' ||
    prefix.length === 0 ||
    prefix.length > MAX_TENANT_PREFIX_LENGTH ||
    !/^[!-~]+$/.test(prefix)
  ) {
    throw new InvalidTenantSessionOptionsError(
      `${where}.keyPrefix must be 1 to ${MAX_TENANT_PREFIX_LENGTH} printable ASCII characters ` +
        `without spaces, e.g. "sess:"`,
    );
  }
  const literal = prefix.replace(PLACEHOLDER, ANY_ID);
  for (const name of ['keyPrefix', 'indexPrefix'] as const) {
    const template = templates[name];
    const rendered = template.replace(PLACEHOLDER, ANY_ID);
    if (couldStart(literal, rendered) || couldStart(rendered, literal)) {
      throw new InvalidTenantSessionOptionsError(
        `${where}.keyPrefix "${prefix}" can overlap the module's ${name} "${template}": one ` +
          "starts the other for some tenant, so one tenant's SCAN would find another's keys. " +
          'Make them differ before any placeholder, e.g. "sess:" beside "sessions:{tenant}:{app}:"',
      );
    }
  }
}

/** Two tenants' own prefixes (a `tenantSettings` map, checked at start-up) must be disjoint too. */
export function checkTenantKeyPrefixesApart(prefixes: [tenant: string, prefix: string][]): void {
  for (const [i, [a, prefixA]] of prefixes.entries()) {
    for (const [b, prefixB] of prefixes.slice(i + 1)) {
      if (prefixA.startsWith(prefixB) || prefixB.startsWith(prefixA)) {
        throw new InvalidTenantSessionOptionsError(
          `tenantSettings[${a}].keyPrefix "${prefixA}" and tenantSettings[${b}].keyPrefix ` +
            `"${prefixB}" overlap: each tenant needs a prefix of its own`,
        );
      }
    }
  }
}

/**
 * Whether some rendering of template `a` can start some rendering of `b` (ANY_ID stands for a
 * placeholder). Conservative: an id facing literal id characters is taken to spell them. Two
 * placeholders facing each other are the same id (different ids part at a separator).
 */
function couldStart(a: string, b: string): boolean {
  for (let i = 0; i < a.length; i++) {
    if (i >= b.length) return false;
    const [x, y] = [a[i], b[i]];
    if (x === ANY_ID && y === ANY_ID) continue;
    if (x === ANY_ID || y === ANY_ID) return ID_CHARACTER.test(x === ANY_ID ? y : x);
    if (x !== y) return false;
  }
  return true;
}

function checkTemplate(name: string, template: string): void {
  if (typeof template !== 'string' || !template.includes('{tenant}')) {
    throw new InvalidTenantSessionOptionsError(
      `${name} "${template}" must contain {tenant}, or tenants would share keys`,
    );
  }
  for (const match of template.matchAll(PLACEHOLDER)) {
    const next = template[match.index + match[0].length];
    if (next === undefined || next === '{' || ID_CHARACTER.test(next)) {
      throw new InvalidTenantSessionOptionsError(
        `${name} "${template}": ${match[0]} must be followed by a separator that tenant ids and ` +
          `app names cannot contain (such as ":"), or one tenant's keys could be another's, ` +
          `e.g. "${template.slice(0, match.index + match[0].length)}:${template.slice(match.index + match[0].length)}"`,
      );
    }
  }
}
