/**
 * A bounded map that forgets the least recently used key first. A Map keeps insertion
 * order, so "use" is delete-and-reinsert and the oldest key is the first one; every
 * operation is O(1). Small enough to own rather than depend on a cache library whose
 * extra features (TTL, fetch) the registry cache does not want.
 */
export class LruMap<K, V> {
  readonly #map = new Map<K, V>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`bad LRU capacity ${capacity}`);
  }

  get size(): number {
    return this.#map.size;
  }

  /** The value, marking the key as just used. */
  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value === undefined) return undefined;
    this.#map.delete(key);
    this.#map.set(key, value);
    return value;
  }

  /** The value without touching recency (for bookkeeping such as applying watch events). */
  peek(key: K): V | undefined {
    return this.#map.get(key);
  }

  has(key: K): boolean {
    return this.#map.has(key);
  }

  /** Stores the value as most recently used, evicting the least recently used past capacity. */
  set(key: K, value: V): void {
    if (this.capacity === 0) return;
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.capacity) {
      const oldest = this.#map.keys().next();
      if (!oldest.done) this.#map.delete(oldest.value);
    }
  }

  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  clear(): void {
    this.#map.clear();
  }

  keys(): IterableIterator<K> {
    return this.#map.keys();
  }
}
