/**
 * The watch iterator behind `CallRecorder.watch` (a `flow/calls`
 * subscription): a snapshot, then every later event, buffered up to a
 * bound. Internal to `@alknet/flowgraph` but for its types.
 *
 * @module
 */

import type { CallGraphSnapshot } from "./call_graph.ts";
import type { CallEventLike } from "./call_events.ts";
import { FlowgraphError } from "./errors.ts";

/**
 * One item of a `flow/calls` subscription: a snapshot (first), then events.
 *
 * @example
 * ```ts
 * import type { FlowCallsItem } from "@alknet/flowgraph";
 * const item: FlowCallsItem = { kind: "event", event: { type: "requested", id: "c1", operation: "a/b", at: 0 } };
 * ```
 */
export type FlowCallsItem =
  | { kind: "snapshot"; snapshot: CallGraphSnapshot }
  | { kind: "event"; event: CallEventLike };

/**
 * Options of `CallRecorder.watch`.
 *
 * @example
 * ```ts
 * import type { WatchOptions } from "@alknet/flowgraph";
 * const opts: WatchOptions = { snapshot: false, maxBuffered: 1000, signal: AbortSignal.timeout(60_000) };
 * ```
 */
export interface WatchOptions {
  /** Ends the iteration when aborted. */
  signal?: AbortSignal;
  /** Start with a snapshot item (default true). */
  snapshot?: boolean;
  /** Events that may wait unread before the watch fails with `OVERFLOW` (default 10 000). */
  maxBuffered?: number;
}

/** What {@link watchCalls} watches: a `CallRecorder`. */
export interface WatchSource {
  /** A snapshot of every call held now. */
  snapshot(): CallGraphSnapshot;
  /** Calls `listener` after each recorded event; returns the function that stops it. */
  subscribe(listener: (event: CallEventLike) => void): () => void;
}

/** `v`, or `INVALID_OPTION` naming `name` when it is negative (or zero, unless allowed) or NaN. */
export function positive(name: string, v: number, allowZero: boolean): number {
  if (Number.isNaN(v) || v < 0 || (!allowZero && v === 0)) {
    throw new FlowgraphError(
      "INVALID_OPTION",
      `${name} must be a ${allowZero ? "non-negative" : "positive"} number`,
    );
  }
  return v;
}

/**
 * The events of `source` as an async iterator: see `CallRecorder.watch`.
 */
export function watchCalls(
  source: WatchSource,
  options: WatchOptions = {},
): AsyncIterableIterator<FlowCallsItem> {
  const max = positive("maxBuffered", options.maxBuffered ?? 10_000, false);
  const signal = options.signal;
  let buffer: (FlowCallsItem | undefined)[] = [];
  let head = 0;
  let waiting: ((r: IteratorResult<FlowCallsItem>) => void) | undefined;
  let failure: FlowgraphError | undefined;
  let stopped = false;
  if (options.snapshot ?? true) buffer.push({ kind: "snapshot", snapshot: source.snapshot() });
  const stopListening = () => {
    unsubscribe();
    signal?.removeEventListener("abort", end);
  };
  const end = () => {
    if (stopped) return;
    stopped = true;
    stopListening();
    buffer = [];
    head = 0;
    const w = waiting;
    waiting = undefined;
    w?.({ done: true, value: undefined });
  };
  const unsubscribe = source.subscribe((event) => {
    if (failure !== undefined) return;
    const item: FlowCallsItem = { kind: "event", event };
    if (waiting !== undefined) {
      const w = waiting;
      waiting = undefined;
      w({ done: false, value: item });
    } else if (buffer.length - head >= max) {
      failure = new FlowgraphError(
        "OVERFLOW",
        `a call watcher fell more than ${max} events behind`,
      );
      stopListening();
    } else {
      buffer.push(item);
    }
  });
  if (signal?.aborted) end();
  else signal?.addEventListener("abort", end, { once: true });

  const iterator: AsyncIterableIterator<FlowCallsItem> = {
    next(): Promise<IteratorResult<FlowCallsItem>> {
      if (head < buffer.length) {
        const value = buffer[head] as FlowCallsItem;
        buffer[head++] = undefined;
        if (head > 1024 && head * 2 > buffer.length) {
          buffer = buffer.slice(head);
          head = 0;
        }
        return Promise.resolve({ done: false, value });
      }
      if (failure !== undefined && !stopped) {
        const f = failure;
        end();
        return Promise.reject(f);
      }
      if (stopped) return Promise.resolve({ done: true, value: undefined });
      return new Promise((resolve) => {
        waiting = resolve;
      });
    },
    return(): Promise<IteratorResult<FlowCallsItem>> {
      end();
      return Promise.resolve({ done: true, value: undefined });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
