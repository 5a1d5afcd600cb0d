/**
 * A FIFO async lock: one holder at a time, waiters served in order.
 *
 * @module
 */

/**
 * A FIFO async lock.
 *
 * @example
 * ```ts
 * import { Mutex } from "@alknet/storage/driver";
 * const m = new Mutex();
 * const release = await m.lock();
 * console.log(m.busy); // true
 * release();
 * console.log(m.busy); // false
 * ```
 */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;

  /** True while the lock is held or awaited. */
  get busy(): boolean {
    return this.#pending > 0;
  }

  /** Waits for the lock; call the returned function exactly once to release it. */
  async lock(): Promise<() => void> {
    this.#pending++;
    const previous = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#pending--;
      release();
    };
  }
}
