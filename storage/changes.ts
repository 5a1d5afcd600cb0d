/**
 * Fans the driver's change signals out to subscribers by channel
 * (`peers`, `stream:<topic>`). A `"*"` signal (SQLite: another process
 * committed something) wakes every subscriber. The driver is watched only
 * while someone subscribes.
 *
 * @module
 */

import type { Driver } from "./driver/types.ts";
import { StorageError } from "./errors.ts";

/**
 * Called when a channel may have changed; it re-reads what it follows.
 *
 * @example
 * ```ts
 * import type { ChannelListener } from "@alknet/storage/changes";
 * let wakes = 0;
 * const listener: ChannelListener = () => wakes++;
 * listener();
 * console.log(wakes); // 1
 * ```
 */
export type ChannelListener = () => void;

/**
 * Channel subscriptions over one driver's change signals.
 *
 * @example
 * ```ts
 * import { openSqlite } from "@alknet/storage/driver";
 * import { ChangeHub } from "@alknet/storage/changes";
 * const db = openSqlite(":memory:");
 * const hub = new ChangeHub(db);
 * let woke = 0;
 * const stop = await hub.subscribe("peers", () => woke++);
 * await db.notify("peers");
 * await Promise.resolve();
 * console.log(woke); // 1
 * await stop();
 * await db.close();
 * ```
 */
export class ChangeHub {
  readonly #driver: Driver;
  readonly #byChannel = new Map<string, Set<ChannelListener>>();
  #count = 0;
  #stopWatching: Promise<() => Promise<void>> | null = null;
  #closed = false;

  /** Follows `driver`'s changes. */
  constructor(driver: Driver) {
    this.#driver = driver;
  }

  #dispatch = (channel: string): void => {
    if (channel === "*") {
      for (const set of [...this.#byChannel.values()]) for (const l of [...set]) l();
      return;
    }
    const set = this.#byChannel.get(channel);
    if (set) { for (const l of [...set]) l(); }
  };

  /**
   * Calls `listener` whenever `channel` may have changed. Resolves once
   * changes are followed (PostgreSQL: `LISTEN` is in place); the returned
   * function unsubscribes.
   */
  async subscribe(channel: string, listener: ChannelListener): Promise<() => Promise<void>> {
    if (this.#closed) throw new StorageError("closed", "the store is closed");
    let set = this.#byChannel.get(channel);
    if (!set) this.#byChannel.set(channel, set = new Set());
    const wrapped: ChannelListener = () => {
      try {
        listener();
      } catch {
        // A listener's failure is its own business.
      }
    };
    set.add(wrapped);
    this.#count++;
    try {
      if (!this.#stopWatching) this.#stopWatching = this.#driver.watch((c) => this.#dispatch(c));
      await this.#stopWatching;
    } catch (e) {
      this.#stopWatching = null;
      this.#remove(channel, wrapped);
      throw e;
    }
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      this.#remove(channel, wrapped);
      if (this.#count === 0 && this.#stopWatching) {
        const stopping = this.#stopWatching;
        this.#stopWatching = null;
        await (await stopping)();
      }
    };
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Wakes every subscriber one last time (they see {@link closed}) and stops watching. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#dispatch("*");
    this.#byChannel.clear();
    this.#count = 0;
    const stopping = this.#stopWatching;
    this.#stopWatching = null;
    if (stopping) {
      try {
        await (await stopping)();
      } catch {
        // Not watching either way.
      }
    }
  }

  #remove(channel: string, listener: ChannelListener): void {
    const set = this.#byChannel.get(channel);
    if (set?.delete(listener)) this.#count--;
    if (set && set.size === 0) this.#byChannel.delete(channel);
  }
}
