/**
 * Tenant ids end up inside Redis keys and SCAN patterns, so only a DNS-label-like charset is
 * accepted: lower-case letters, digits and inner hyphens, 1 to 63 characters. Anything else
 * (`:`, `*`, spaces, braces, long strings) is rejected, never "cleaned up" into another tenant.
 */
export const TENANT_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** The canonical (lower-case) tenant id, or `undefined` when the input is not a valid one. */
export function normalizeTenantId(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const id = asciiLowerCase(raw);
  return TENANT_ID_PATTERN.test(id) ? id : undefined;
}

/** Like `normalizeTenantId`, for code paths where an invalid id is a programming error. */
export function assertTenantId(raw: unknown): string {
  const id = normalizeTenantId(raw);
  if (id === undefined) {
    throw new TypeError(
      `Invalid tenant id ${JSON.stringify(String(raw).slice(0, 80))}: expected ${TENANT_ID_PATTERN}`,
    );
  }
  return id;
}

/**
 * Lower-cases A-Z only. `toLowerCase()` maps some non-ASCII letters into ASCII (the Kelvin sign
 * U+212A becomes "k"), which would let a look-alike id reach another tenant's keys.
 */
export function asciiLowerCase(text: string): string {
  return text.replace(/[A-Z]+/g, (upper) => upper.toLowerCase());
}
