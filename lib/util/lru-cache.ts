/**
 * A size-bounded map that drops a least recently used entry past its bound. "Second chance"
 * (CLOCK) rather than strict LRU: a read only marks its entry used instead of moving it to the
 * back of the Map (a delete and a re-insert, which churns the Map's table on every read of the
 * request path); eviction walks from the oldest entry, moving the used ones to the back unmarked,
 * and drops the first one not used since it was last passed.
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, { value: V; used: boolean }>();

  /** `onEvict` hears of each entry dropped to make room (not of deletes or replacements). */
  constructor(
    readonly maxSize: number,
    private readonly onEvict?: (key: K, value: V) => void,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    entry.used = true;
    return entry.value;
  }

  /** The value without counting as a use. */
  peek(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }

  set(key: K, value: V): void {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      entry.value = value;
      entry.used = true;
      return;
    }
    // Room first: a new entry is not used yet, and must not be its own victim.
    if (this.entries.size >= this.maxSize) this.evictOne();
    if (this.maxSize > 0) this.entries.set(key, { value, used: false });
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  private evictOne(): void {
    for (const [key, entry] of this.entries) {
      this.entries.delete(key);
      if (!entry.used) return this.onEvict?.(key, entry.value);
      entry.used = false;
      this.entries.set(key, entry);
    }
  }
}
