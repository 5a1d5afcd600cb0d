/**
 * {@link CallRecorder}: a bounded call graph a node keeps of its own calls,
 * fed by the dispatcher's observer, with listeners, a watch iterator for a
 * `flow/calls` subscription, and snapshots.
 *
 * @module
 */

import { CallGraph, type CallGraphSnapshot, type CallRecord } from "./call_graph.ts";
import type {
  CallEnvelopeLike,
  CallEventLike,
  CallEventType,
  EnvelopeOptions,
} from "./call_events.ts";
import { eventsFromEnvelope } from "./call_events.ts";
import { isTerminal } from "./call_status.ts";
import { FlowgraphError, type FlowgraphErrorCode } from "./errors.ts";
import { FinishedCalls } from "./finished.ts";
import { type FlowCallsItem, positive, watchCalls, type WatchOptions } from "./watch.ts";

/**
 * Options of {@link CallRecorder}.
 *
 * @example
 * ```ts
 * import type { CallRecorderOptions } from "@alknet/flowgraph";
 * const opts: CallRecorderOptions = { maxCalls: 1000, maxAgeMs: 60_000 };
 * ```
 */
export interface CallRecorderOptions {
  /**
   * Keep at most this many calls (default 10 000): the calls that finished
   * first are dropped first; live calls are dropped (oldest first) only when
   * they alone exceed the bound.
   */
  maxCalls?: number;
  /** Drop finished calls that ended longer ago than this (default 600 000 ms; `Infinity` keeps them). */
  maxAgeMs?: number;
  /** The clock for {@link CallRecorder.snapshot} and {@link CallRecorder.prune} (default `Date.now`). */
  now?: () => number;
}

/**
 * Receives each recorded event with the call's record after it.
 *
 * @example
 * ```ts
 * import type { CallListener } from "@alknet/flowgraph";
 * const log: CallListener = (event, call) => console.log(event.type, call.operation, call.status);
 * ```
 */
export type CallListener = (event: CallEventLike, call: CallRecord) => void;

/**
 * Counters of a {@link CallRecorder}.
 *
 * @example
 * ```ts
 * import type { RecorderStats } from "@alknet/flowgraph";
 * const s: RecorderStats = { calls: 3, recorded: 9, refused: 0, evicted: 0 };
 * ```
 */
export interface RecorderStats {
  /** Calls held now. */
  calls: number;
  /** Events applied. */
  recorded: number;
  /** Events refused (unknown calls, invalid transitions, duplicates). */
  refused: number;
  /** Calls dropped by the bounds. */
  evicted: number;
  /** The code of the last refusal. */
  lastRefused?: FlowgraphErrorCode;
}

/**
 * The property through which `@alknet/call`'s dispatcher hands an observer
 * the fields of an event one by one instead of an object
 * (`Symbol.for("alknet.call.step")`; neither package imports the other).
 */
const STEP = Symbol.for("alknet.call.step");

/**
 * An event's fields, in the order the dispatcher passes them through
 * {@link STEP} (`@alknet/call`'s checks.ts writes the same type: neither
 * package imports the other), then `origin`: an object that is the same for
 * every event of one call and different for any other call (the dispatcher
 * passes its request object). Ids are chosen by callers, so two calls on
 * two connections can share one; an event whose origin is not that of the
 * live call with its id is refused as `UNKNOWN_CALL` instead of changing
 * the other call. Internal, exported for the tests.
 */
export type Step = (
  type: CallEventType,
  id: string,
  operation: string,
  at: number,
  parentId: string | undefined,
  code: string | undefined,
  origin?: object,
) => void;

/**
 * A bounded call graph fed by call events. It never throws at the feeder:
 * refused events are counted in {@link stats}. Hand {@link observer} to an
 * `@alknet/call` `OperationRegistry` (`new OperationRegistry({ observer:
 * recorder.observer })`) to record a node's own calls.
 *
 * Recording is cheap per call: only pending and running calls are kept in a
 * graph as events arrive; finished calls are stored compactly in the order
 * they finished, and {@link graph} is built from both when read after a
 * change. A call fed through {@link observer} that ends before any other
 * call's event (a handler that answers at once) goes straight to the
 * finished calls, with no record object and no map entry.
 * Request ids are chosen by callers: the dispatcher's events also carry
 * which call they belong to, so a call on one connection that reuses the
 * id of another connection's live call cannot change that call (its events
 * are refused and counted).
 * An event for a call that already finished is refused as `UNKNOWN_CALL`,
 * and an id reused after its call finished names a new call (the older one
 * leaves the views).
 *
 * @example
 * ```ts
 * import { CallRecorder } from "@alknet/flowgraph";
 * const recorder = new CallRecorder({ maxCalls: 1000 });
 * const seen: string[] = [];
 * const stop = recorder.subscribe((event, call) => seen.push(`${event.type}:${call.status}`));
 * const t = Date.now();
 * recorder.observer({ type: "requested", id: "c1", operation: "node/ping", at: t });
 * recorder.observer({ type: "running", id: "c1", operation: "node/ping", at: t });
 * recorder.observer({ type: "completed", id: "c1", operation: "node/ping", at: t + 1 });
 * recorder.observer({ type: "completed", id: "c1", operation: "node/ping", at: t + 2 }); // refused, counted
 * stop();
 * console.log(seen); // ["requested:pending", "running:running", "completed:completed"]
 * console.log(recorder.stats().refused, recorder.snapshot().calls.length); // 1 1
 * ```
 */
export class CallRecorder {
  #live = new CallGraph(); // pending and running calls
  #origins = new Map<string, object>(); // of the live calls fed with one (see Step)
  #done = new FinishedCalls(); // in the order they finished
  #view: CallGraph | undefined; // every call held, built when read
  readonly #maxCalls: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  readonly #listeners = new Set<CallListener>();
  #recorded = 0;
  #refused = 0;
  #evicted = 0;
  #lastRefused: FlowgraphErrorCode | undefined;

  /** A recorder with the given bounds. `INVALID_OPTION` for a bound that is not positive. */
  constructor(options: CallRecorderOptions = {}) {
    this.#maxCalls = positive("maxCalls", options.maxCalls ?? 10_000, false);
    this.#maxAgeMs = positive("maxAgeMs", options.maxAgeMs ?? 600_000, true);
    this.#now = options.now ?? Date.now;
  }

  /**
   * Every call held now, in request order (by request time), as a graph
   * built when read after a change: read it, do not change it (changes are
   * not kept).
   */
  get graph(): CallGraph {
    this.#flush();
    if (this.#view === undefined) {
      const records: CallRecord[] = [];
      for (let i = 0; i < this.#done.size; i++) records.push(this.#done.record(i));
      for (const c of this.#live.calls()) records.push(c);
      records.sort((a, b) => a.requestedAt - b.requestedAt); // stable
      this.#view = CallGraph.fromRecords(records);
    }
    return this.#view;
  }

  /** Calls pending or running now. */
  get live(): number {
    return this.#live.size + (this.#slotId === undefined ? 0 : 1);
  }

  /** What {@link observer} does with an event's fields (see {@link STEP}). */
  readonly #step: Step = (type, id, operation, at, parentId, code, origin) => {
    if (this.#listeners.size === 0) {
      if (type === "requested") {
        if (this.#slotId !== undefined) this.#flush();
        if (parentId !== id && !this.#live.has(id)) {
          this.#slotId = id;
          this.#slotOrigin = origin;
          this.#slotOperation = operation;
          this.#slotParent = parentId;
          this.#slotRequestedAt = at;
          this.#slotRunningAt = NaN;
          this.#recorded++;
          this.#view = undefined;
          this.#evictAge(at);
          this.#evictCount();
          return;
        }
      } else if (
        id === this.#slotId && origin === this.#slotOrigin && this.#slotStep(type, at, code)
      ) {
        return;
      }
      // Nobody keeps it: one reused object (the call graph copies what it needs).
      const s = this.#scratch;
      s.type = type;
      s.id = id;
      s.operation = operation;
      s.at = at;
      s.parentId = parentId;
      s.code = code;
      this.#record(s, origin);
      return;
    }
    // Listeners may keep the event: a fresh one.
    const event: CallEventLike = { type, id, operation, at };
    if (parentId !== undefined) event.parentId = parentId;
    if (code !== undefined) event.code = code;
    this.#record(event, origin);
  };

  /**
   * {@link record} as a bound function: a call observer. It also takes an
   * event field by field, which is how `@alknet/call`'s dispatcher feeds
   * it: no event object is made per step unless a listener or watcher
   * wants one.
   */
  readonly observer: (event: CallEventLike) => void = Object.assign(
    (event: CallEventLike): void => {
      this.record(event);
    },
    {
      [STEP]: this.#step,
    },
  );

  /**
   * The call last requested through {@link observer}, held in these fields
   * instead of the live graph until another call's event arrives (or the
   * recorder is read): a call that ends within the dispatch that started it
   * goes straight to the finished calls, with no record object and no map
   * entry. `#slotId` is undefined when nothing is held.
   */
  #slotId: string | undefined = undefined;
  #slotOrigin: object | undefined = undefined;
  #slotOperation = "";
  #slotParent: string | undefined = undefined;
  #slotRequestedAt = 0;
  #slotRunningAt = NaN;

  /** The event object {@link observer} reuses when no listener is attached. */
  #scratch: CallEventLike = {
    type: "requested",
    id: "",
    operation: "",
    at: 0,
    parentId: undefined,
    code: undefined,
  };

  /** The event object {@link #flush} reuses (not {@link #scratch}: a flush may run while it is filled). */
  #flushed: CallEventLike = { ...this.#scratch };

  /** A later step of the held call; false when the transition is not one it takes here. */
  #slotStep(
    type: Exclude<CallEventType, "requested">,
    at: number,
    code: string | undefined,
  ): boolean {
    const ran = !Number.isNaN(this.#slotRunningAt);
    if (type === "running") {
      if (ran) return false;
      this.#slotRunningAt = at;
    } else {
      if (type === "completed" && !ran) return false;
      this.#done.add(
        this.#slotId as string,
        this.#slotOperation,
        this.#slotParent,
        type,
        type === "failed" ? code : undefined,
        this.#slotRequestedAt,
        this.#slotRunningAt,
        at,
      );
      this.#slotId = undefined;
      this.#slotOrigin = undefined;
      this.#slotParent = undefined;
      this.#evictAge(at);
    }
    this.#recorded++;
    this.#view = undefined;
    return true;
  }

  /** Moves the held call into the live graph. */
  #flush(): void {
    const id = this.#slotId;
    if (id === undefined) return;
    this.#slotId = undefined;
    const e = this.#flushed;
    e.type = "requested";
    e.id = id;
    e.operation = this.#slotOperation;
    e.at = this.#slotRequestedAt;
    e.parentId = this.#slotParent;
    e.code = undefined;
    this.#live.apply(e);
    if (!Number.isNaN(this.#slotRunningAt)) {
      e.type = "running";
      e.at = this.#slotRunningAt;
      this.#live.apply(e);
    }
    if (this.#slotOrigin !== undefined) this.#origins.set(id, this.#slotOrigin);
    this.#slotOrigin = undefined;
    this.#slotParent = undefined;
  }

  /** Applies an event; false (and counted) when the call graph refuses it. */
  record(event: CallEventLike): boolean {
    return this.#record(event, undefined);
  }

  #refuse(code: FlowgraphErrorCode): false {
    this.#refused++;
    this.#lastRefused = code;
    return false;
  }

  /** {@link record}, for the call of `origin` when given (see {@link Step}). */
  #record(event: CallEventLike, origin: object | undefined): boolean {
    this.#flush();
    if (origin !== undefined && event.type !== "requested" && this.#origins.size > 0) {
      const o = this.#origins.get(event.id);
      if (o !== undefined && o !== origin) return this.#refuse("UNKNOWN_CALL");
    }
    let call: CallRecord;
    try {
      call = this.#live.apply(event);
    } catch (e) {
      return this.#refuse(e instanceof FlowgraphError ? e.code : "INVALID_EVENT");
    }
    this.#recorded++;
    this.#view = undefined;
    if (origin !== undefined && event.type === "requested") this.#origins.set(call.id, origin);
    if (isTerminal(call.status)) {
      this.#live.delete(call.id);
      if (this.#origins.size > 0) this.#origins.delete(call.id);
      this.#done.push(call);
      this.#evictAge(event.at);
    } else if (event.type === "requested") {
      this.#evictAge(event.at);
      this.#evictCount();
    }
    if (this.#listeners.size > 0) {
      for (const listener of this.#listeners) {
        try {
          listener(event, call);
        } catch {
          // a listener must not break recording or the other listeners
        }
      }
    }
    return true;
  }

  /** Applies a wire envelope (see {@link eventsFromEnvelope}); false when something was refused. */
  recordEnvelope(envelope: CallEnvelopeLike, options: EnvelopeOptions = {}): boolean {
    this.#flush();
    let events: CallEventLike[];
    try {
      events = eventsFromEnvelope(envelope, this.#live.get(envelope.id), options);
    } catch (e) {
      return this.#refuse(e instanceof FlowgraphError ? e.code : "INVALID_EVENT");
    }
    let ok = true;
    for (const e of events) ok = this.record(e) && ok;
    return ok;
  }

  /** Calls `listener` after each recorded event; returns the function that stops it. */
  subscribe(listener: CallListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * The events as an async iterator: a snapshot first (unless
   * `snapshot: false`), then every event recorded after it, with nothing
   * lost in between. Ends when `signal` aborts or the consumer returns;
   * rejects with `OVERFLOW` (after the buffered items) when more than
   * `maxBuffered` events wait unread.
   */
  watch(options: WatchOptions = {}): AsyncIterableIterator<FlowCallsItem> {
    return watchCalls(this, options);
  }

  /** Drops expired calls, then returns copies of every call (see {@link CallGraph.toJSON}). */
  snapshot(): CallGraphSnapshot {
    const now = this.#now();
    this.#evictAge(now);
    return this.graph.toJSON(now);
  }

  /** Drops finished calls older than `maxAgeMs` now; returns how many. */
  prune(): number {
    const before = this.#evicted;
    this.#evictAge(this.#now());
    return this.#evicted - before;
  }

  /** Replaces everything held with a snapshot (parsed JSON); `INVALID_JSON` when malformed. */
  load(snapshot: unknown): void {
    const calls = CallGraph.fromJSON(snapshot).calls();
    this.#slotId = undefined;
    this.#slotOrigin = undefined;
    this.#origins.clear();
    this.#live = CallGraph.fromRecords(calls.filter((c) => !isTerminal(c.status)));
    this.#done.clear();
    for (
      const c of calls.filter((c) => isTerminal(c.status))
        .sort((a, b) => (a.endedAt ?? 0) - (b.endedAt ?? 0))
    ) this.#done.push(c);
    this.#view = undefined;
    this.#evictAge((snapshot as { at: number }).at);
    this.#evictCount();
  }

  /** Forgets every call (counters stay). */
  clear(): void {
    this.#slotId = undefined;
    this.#slotOrigin = undefined;
    this.#origins.clear();
    this.#live.clear();
    this.#done.clear();
    this.#view = undefined;
  }

  /** The counters. */
  stats(): RecorderStats {
    const s: RecorderStats = {
      calls: this.live + this.#done.size,
      recorded: this.#recorded,
      refused: this.#refused,
      evicted: this.#evicted,
    };
    if (this.#lastRefused !== undefined) s.lastRefused = this.#lastRefused;
    return s;
  }

  #dropFinished(): void {
    this.#done.dropFirst();
    this.#evicted++;
    this.#view = undefined;
  }

  /** Finished calls that ended before `now - maxAgeMs` go. */
  #evictAge(now: number): void {
    if (this.#maxAgeMs === Infinity) return;
    const limit = now - this.#maxAgeMs;
    while (this.#done.firstEndedAt < limit) this.#dropFinished();
  }

  /** Beyond `maxCalls`: the calls that finished first go, then (only live ones left) the oldest. */
  #evictCount(): void {
    while (this.live + this.#done.size > this.#maxCalls && this.#done.size > 0) {
      this.#dropFinished();
    }
    if (this.live > this.#maxCalls) this.#flush();
    while (this.#live.size > this.#maxCalls) {
      const oldest = (this.#live.oldest() as CallRecord).id;
      this.#live.delete(oldest);
      this.#origins.delete(oldest);
      this.#evicted++;
      this.#view = undefined;
    }
  }
}
