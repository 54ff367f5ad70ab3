import { LruCache } from '../util/lru-cache.js';

/** Which tenants exist: a fixed list, or a lookup (a database, a service) answering yes or no. */
export type KnownTenantsSource = string[] | ((tenant: string) => boolean | Promise<boolean>);

/** How long an answer is trusted, and how many are kept (ones not used lately dropped). */
const KNOWN_FOR_MS = 5 * 60_000;
const UNKNOWN_FOR_MS = 30_000;
const MAX_ANSWERS = 10_000;

interface Answer {
  exists: Promise<boolean>;
  until: number;
}

/**
 * Answers "does this tenant exist?" before anything is built for it, so a flood of random
 * subdomains builds no store and calls no settings lookup. A lookup's answers are cached, known
 * tenants longer than unknown ones (a new tenant shows up within 30 s); concurrent questions
 * about one id share one lookup; a failed lookup is not cached.
 */
export class KnownTenants {
  private readonly list?: Set<string>;
  private readonly lookup?: (tenant: string) => boolean | Promise<boolean>;
  private readonly answers = new LruCache<string, Answer>(MAX_ANSWERS);

  constructor(
    source: KnownTenantsSource,
    private readonly now: () => number = Date.now,
  ) {
    if (Array.isArray(source)) this.list = new Set(source);
    else this.lookup = source;
  }

  has(tenant: string): boolean | Promise<boolean> {
    if (this.list) return this.list.has(tenant);
    const cached = this.answers.get(tenant);
    if (cached && cached.until > this.now()) return cached.exists;
    const exists = Promise.resolve(this.lookup!(tenant)).then((answer) => answer === true);
    const answer = { exists, until: Infinity };
    this.answers.set(tenant, answer);
    exists.then(
      (known) => (answer.until = this.now() + (known ? KNOWN_FOR_MS : UNKNOWN_FOR_MS)),
      () => this.answers.delete(tenant),
    );
    return exists;
  }
}
