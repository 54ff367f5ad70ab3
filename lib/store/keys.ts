/**
 * Every Redis key the module touches, in one place (docs/redis-keys.md mirrors this).
 *
 *   <keyPrefix><sid>       string  session JSON, exactly as connect-redis writes it, plus a
 *                                  sealed `_owner` on sessions that have an identity;
 *                                  TTL = the session's idle timeout
 *   <indexPrefix><userId>  zset    member: sid, score: "indexed until" (ms, Redis clock), an
 *                                  upper bound of that session's expiry; plus at most one
 *                                  member `!not-before` (see scripts.ts) whose score is the time
 *                                  of the user's last revocation; key TTL = highest score
 *
 * Defaults: keyPrefix `sessions:{tenant}:{app}:`, indexPrefix `sessions-index:{tenant}:{app}:`.
 * Each command or script touches a single key, so the layout works unchanged on Redis Cluster.
 */
export class TenantKeys {
  readonly sessionPrefix: string;
  readonly indexPrefix: string;

  constructor(templates: { keyPrefix: string; indexPrefix: string }, tenant: string, app: string) {
    this.sessionPrefix = render(templates.keyPrefix, tenant, app);
    this.indexPrefix = render(templates.indexPrefix, tenant, app);
  }

  session(sid: string): string {
    return this.sessionPrefix + sid;
  }

  index(userId: string): string {
    return this.indexPrefix + userId;
  }

  /**
   * SCAN patterns that match this tenant's keys and nobody else's (the templates are checked at
   * start-up, options/key-templates.ts); sessions first.
   */
  scanPatterns(): string[] {
    return [this.sessionPattern(), escapeGlob(this.indexPrefix) + '*'];
  }

  /** The SCAN pattern of this tenant's session keys. */
  sessionPattern(): string {
    return escapeGlob(this.sessionPrefix) + '*';
  }

  /** The session id in one of this tenant's session keys, else undefined. */
  sidOf(key: string): string | undefined {
    return key.startsWith(this.sessionPrefix) ? key.slice(this.sessionPrefix.length) : undefined;
  }
}

function render(template: string, tenant: string, app: string): string {
  return template.replaceAll('{tenant}', tenant).replaceAll('{app}', app);
}

/** Glob characters in a prefix must match literally in SCAN MATCH. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/**
 * One key family (a key template) of every tenant of one app: the SCAN pattern that finds their
 * keys, and the tenant each key belongs to, for statistics across tenants. Unambiguous because
 * the templates are checked (options/key-templates.ts): every placeholder is followed by a
 * separator ids cannot contain, and the two families cannot overlap.
 */
export class TenantKeyFamily {
  readonly pattern: string;
  private readonly tenantOfKey: RegExp;

  constructor(template: string, app: string) {
    const rendered = template.replaceAll('{app}', app).split('{tenant}');
    this.pattern = rendered.map(escapeGlob).join('*') + '*';
    const [head, ...rest] = rendered.map(escapeRegExp);
    this.tenantOfKey = new RegExp(`^${head}([a-z0-9-]+)${rest.join('\\1')}`);
  }

  /** The tenant whose key this is, else undefined (a key of another app or family). */
  tenantOf(key: string): string | undefined {
    return this.tenantOfKey.exec(key)?.[1];
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
