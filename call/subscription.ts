/**
 * The caller's side of one subscription: a bounded queue of items read by
 * one consumer, failed loudly (never dropping items) when the consumer
 * falls too far behind.
 *
 * @module
 */

import type { CallSubscription } from "./caller.ts";
import { CallError } from "./errors.ts";

/** Client-side state of one subscription: a bounded queue read by one consumer. */
export class Subscription implements CallSubscription<unknown>, AsyncIterator<unknown> {
  readonly id: string;
  onEnd: (() => void) | undefined;
  #items: unknown[] = [];
  #head = 0;
  #waiter: { resolve: (r: IteratorResult<unknown>) => void; reject: (e: unknown) => void } | null =
    null;
  #done = false;
  #error: unknown = undefined;
  #failed = false;
  #max: number;
  #cancelUpstream: () => void;

  constructor(id: string, max: number, cancelUpstream: () => void) {
    this.id = id;
    this.#max = max;
    this.#cancelUpstream = cancelUpstream;
  }

  push(item: unknown): void {
    if (this.#done) return;
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = null;
      w.resolve({ value: item, done: false });
      return;
    }
    if (this.#items.length - this.#head >= this.#max) {
      this.#cancelUpstream();
      this.fail(
        new CallError(
          "INTERNAL",
          `subscription buffer overflow: more than ${this.#max} unread items`,
          {
            details: { reason: "consumer too slow" },
          },
        ),
      );
      return;
    }
    this.#items.push(item);
  }

  complete(): void {
    if (this.#done) return;
    this.#done = true;
    this.onEnd?.();
    if (this.#waiter && this.#head >= this.#items.length) {
      const w = this.#waiter;
      this.#waiter = null;
      w.resolve({ value: undefined, done: true });
    }
  }

  fail(error: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#failed = true;
    this.#error = error;
    this.onEnd?.();
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = null;
      w.reject(error);
    }
  }

  next(): Promise<IteratorResult<unknown>> {
    if (this.#head < this.#items.length && !this.#failed) {
      const value = this.#items[this.#head];
      this.#items[this.#head++] = undefined;
      if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
        this.#items = this.#items.slice(this.#head);
        this.#head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.#failed) {
      this.#items = [];
      this.#head = 0;
      return Promise.reject(this.#error);
    }
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.#waiter = { resolve, reject }));
  }

  return(): Promise<IteratorResult<unknown>> {
    this.cancel();
    return Promise.resolve({ value: undefined, done: true });
  }

  cancel(): void {
    if (this.#done) return;
    this.#cancelUpstream();
    this.#done = true;
    this.#items = [];
    this.#head = 0;
    this.onEnd?.();
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = null;
      w.resolve({ value: undefined, done: true });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    return this;
  }
}
