/**
 * The one timeout helper of `@alknet/core`: race a promise against a timer
 * that is always cleared, with {@link TIMED_OUT} as the answer when the timer
 * wins. Callers decide what a timeout means (a `DialError`, a status byte, a
 * dropped connection), so no error is thrown here.
 *
 * @module
 */

/**
 * What {@link withTimeout} and {@link Deadline.race} resolve to when time ran out.
 *
 * @example
 * ```ts
 * import { TIMED_OUT, withTimeout } from "@alknet/core/transport";
 * const r = await withTimeout(new Promise(() => {}), 1);
 * console.log(r === TIMED_OUT); // true
 * ```
 */
export const TIMED_OUT: unique symbol = Symbol("timed out");

/**
 * The type of {@link TIMED_OUT}.
 *
 * @example
 * ```ts
 * import { TIMED_OUT, type TimedOut } from "@alknet/core/transport";
 * const t: TimedOut = TIMED_OUT;
 * console.log(typeof t); // "symbol"
 * ```
 */
export type TimedOut = typeof TIMED_OUT;

/**
 * One deadline shared by several waits (for example every read of a header):
 * `race(p)` resolves to `p`'s value, or to {@link TIMED_OUT} once the
 * deadline has passed. `clear()` stops the timer; call it when done.
 *
 * @example
 * ```ts
 * import { Deadline, TIMED_OUT } from "@alknet/core/transport";
 * const d = new Deadline(1000);
 * console.log(await d.race(Promise.resolve(7))); // 7
 * d.clear();
 * console.log((await new Deadline(1).race(new Promise(() => {}))) === TIMED_OUT); // true
 * ```
 */
export class Deadline {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #expired: Promise<TimedOut>;
  #done = false;

  /** Starts a deadline `ms` milliseconds from now. */
  constructor(ms: number) {
    this.#expired = new Promise<TimedOut>((resolve) => {
      this.#timer = setTimeout(() => {
        this.#done = true;
        resolve(TIMED_OUT);
      }, ms);
    });
  }

  /** Whether the deadline has passed. */
  get expired(): boolean {
    return this.#done;
  }

  /** Resolves to `p`'s value, or {@link TIMED_OUT} when the deadline passes first. */
  race<T>(p: Promise<T>): Promise<T | TimedOut> {
    return Promise.race([p, this.#expired]);
  }

  /** Stops the timer (idempotent). */
  clear(): void {
    clearTimeout(this.#timer);
  }
}

/**
 * Resolves to `p`'s value, or to {@link TIMED_OUT} after `ms` milliseconds.
 * The timer is cleared either way. When `p` settles after the timeout its
 * value goes to `onLate` (close a connection that arrived too late).
 *
 * @example
 * ```ts
 * import { TIMED_OUT, withTimeout } from "@alknet/core/transport";
 * console.log(await withTimeout(Promise.resolve("ok"), 1000)); // "ok"
 * const late = await withTimeout(new Promise((r) => setTimeout(() => r("x"), 50)), 1, (v) => {
 *   console.log("arrived late:", v);
 * });
 * console.log(late === TIMED_OUT); // true
 * ```
 */
export async function withTimeout<T>(
  p: Promise<T>,
  ms: number,
  onLate?: (value: T) => void,
): Promise<T | TimedOut> {
  const d = new Deadline(ms);
  try {
    const r = await d.race(p);
    if (r === TIMED_OUT && onLate) p.then(onLate, () => {});
    return r;
  } finally {
    d.clear();
  }
}
