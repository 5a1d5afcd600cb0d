/**
 * A small LRU cache whose entries expire a fixed time after insertion, with
 * an eviction hook (the vault uses it to wipe evicted keys).
 *
 * @module
 */

/**
 * Options of {@linkcode TtlLruCache}.
 *
 * @example
 * ```ts
 * import { TtlLruCache, type TtlLruCacheOptions } from "@alknet/vault";
 * const o: TtlLruCacheOptions<Uint8Array> = {
 *   capacity: 2,
 *   ttlMs: 60_000,
 *   onEvict: (v) => v.fill(0),
 * };
 * const cache = new TtlLruCache<Uint8Array>(o);
 * cache.set("a", new Uint8Array([1]));
 * console.log(cache.get("a")); // Uint8Array(1) [ 1 ]
 * cache.clear();
 * ```
 */
export interface TtlLruCacheOptions<V> {
  /** Maximum number of entries (default 64); the least recently used goes first. */
  capacity?: number;
  /** Lifetime of an entry from insertion, in ms (default one hour). */
  ttlMs?: number;
  /** Clock in ms (default `Date.now`); tests inject their own. */
  clock?: () => number;
  /** Called with every value that leaves the cache (expiry, LRU, replace, clear). */
  onEvict?: (value: V) => void;
}

/**
 * An LRU cache with a time-to-live counted from insertion.
 *
 * @example
 * ```ts
 * import { TtlLruCache } from "@alknet/vault";
 * let now = 0;
 * const cache = new TtlLruCache<string>({ capacity: 2, ttlMs: 10, clock: () => now });
 * cache.set("a", "A");
 * now = 10;
 * console.log(cache.get("a")); // undefined (expired)
 * ```
 */
export class TtlLruCache<V> {
  readonly #entries = new Map<string, { value: V; insertedAt: number }>();
  readonly #capacity: number;
  readonly #ttlMs: number;
  readonly #clock: () => number;
  readonly #onEvict: (value: V) => void;
  #hits = 0;
  #misses = 0;

  /** Creates an empty cache. */
  constructor(options: TtlLruCacheOptions<V> = {}) {
    this.#capacity = options.capacity ?? 64;
    this.#ttlMs = options.ttlMs ?? 60 * 60 * 1000;
    this.#clock = options.clock ?? Date.now;
    this.#onEvict = options.onEvict ?? (() => {});
    if (!Number.isInteger(this.#capacity) || this.#capacity < 0) {
      throw new RangeError("capacity must be a non-negative integer");
    }
  }

  /** Number of entries held (expired ones included until touched). */
  get size(): number {
    return this.#entries.size;
  }

  /** Lookups that found a live entry, and lookups that did not. */
  get stats(): { hits: number; misses: number } {
    return { hits: this.#hits, misses: this.#misses };
  }

  /** The live value for `key`, marking it most recently used; `undefined` if absent or expired. */
  get(key: string): V | undefined {
    const e = this.#entries.get(key);
    if (!e) {
      this.#misses++;
      return undefined;
    }
    this.#entries.delete(key);
    if (this.#clock() - e.insertedAt >= this.#ttlMs) {
      this.#misses++;
      this.#onEvict(e.value);
      return undefined;
    }
    this.#hits++;
    this.#entries.set(key, e);
    return e.value;
  }

  /** Inserts or replaces `key`, evicting the least recently used entries beyond capacity. */
  set(key: string, value: V): void {
    const old = this.#entries.get(key);
    if (old) {
      this.#entries.delete(key);
      if (old.value !== value) this.#onEvict(old.value);
    }
    if (this.#capacity === 0) {
      this.#onEvict(value);
      return;
    }
    this.#entries.set(key, { value, insertedAt: this.#clock() });
    while (this.#entries.size > this.#capacity) {
      const [k, e] = this.#entries.entries().next().value!;
      this.#entries.delete(k);
      this.#onEvict(e.value);
    }
  }

  /** Whether a live entry exists, without touching its recency. */
  has(key: string): boolean {
    const e = this.#entries.get(key);
    return e !== undefined && this.#clock() - e.insertedAt < this.#ttlMs;
  }

  /** Removes every entry, passing each to `onEvict`. */
  clear(): void {
    const values = [...this.#entries.values()];
    this.#entries.clear();
    for (const e of values) this.#onEvict(e.value);
  }
}
