/**
 * The dispatcher: one path for calls from the wire, composed calls and
 * in-process calls. Order: lookup → internal-from-wire NOT_FOUND → kind
 * mismatch INVALID_OPERATION_TYPE → access FORBIDDEN → input INVALID_INPUT
 * → handler. Also deadlines, call events for the router's observer and the
 * mapping of what handlers throw.
 *
 * A query's outcome goes to a {@link CallSink} (`dispatchCall`): a handler
 * that returns a value is answered before `dispatchCall` returns, one that
 * returns a promise costs one `then`; no promise, `AbortController` or
 * event object is made per call unless someone asks for it (an awaited
 * `registry.invoke`, `ctx.signal`, an observer).
 *
 * @module
 */

import { checkEntry, emitStep, mapRunError } from "./checks.ts";
import { CallError } from "./errors.ts";
import { HandlerContext } from "./handler_context.ts";
import { checkOutput, defaultOutputValidation, type OutputCheck } from "./output_check.ts";
import {
  type AbortTarget,
  type CallControl,
  type CallSink,
  deadlineError,
  DEFAULT_TIMEOUT_MS,
  type DispatchRequest,
  type StartedCall,
} from "./request.ts";
import type { CallEvent, CallObserver, OperationEntry } from "./router.ts";

type EventType = CallEvent["type"];

/**
 * Tells `observer` that the call of `req` reached `type` at `at` (epoch ms);
 * what it throws is ignored.
 */
function emitEvent(
  observer: CallObserver,
  req: DispatchRequest,
  type: EventType,
  at: number,
  err?: unknown,
): void {
  emitStep(observer, type, req.requestId, req.name, at, req.parentId, err, req);
}

/** Maps what a handler threw (or the abort reason) to the error answered. */
function mapHandlerError(entry: OperationEntry, err: unknown, control: CallControl): unknown {
  if (control.aborted && control.reason instanceof CallError) return control.reason;
  if (control.aborted && err === control.reason && !(err instanceof CallError)) return err;
  return mapRunError(entry, err);
}

/** The event type a call that ended with `err` reports. */
function endType(err: unknown): EventType {
  return err instanceof CallError ? "failed" : "aborted";
}

/** How outputs of `entry` are checked here, or undefined when they are not. */
function outputCheckOf(req: DispatchRequest, entry: OperationEntry): OutputCheck | undefined {
  if (entry.validateOutput === undefined) return undefined;
  const mode = req.router.validateOutput ?? defaultOutputValidation();
  if (mode === "off") return undefined;
  return { mode, report: req.router.onInvalidOutput };
}

/**
 * One query or mutation in flight: settles its sink once (the handler's
 * value or error, or the abort), checks the output, clears the timer and
 * reports the end to the observer.
 */
class CallRun implements AbortTarget {
  #req: DispatchRequest;
  #entry: OperationEntry;
  #sink: CallSink;
  #observer: CallObserver | undefined;
  #check: OutputCheck | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #done = false;

  constructor(
    req: DispatchRequest,
    entry: OperationEntry,
    sink: CallSink,
    observer: CallObserver | undefined,
    timer: ReturnType<typeof setTimeout> | undefined,
  ) {
    this.#req = req;
    this.#entry = entry;
    this.#sink = sink;
    this.#observer = observer;
    this.#check = outputCheckOf(req, entry);
    this.#timer = timer;
  }

  #settle(): boolean {
    if (this.#done) return false;
    this.#done = true;
    this.#req.controller.target = undefined;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    return true;
  }

  #fail(err: unknown): void {
    if (this.#observer !== undefined) {
      emitEvent(this.#observer, this.#req, endType(err), Date.now(), err);
    }
    this.#sink.reject(err);
  }

  /** The handler returned (or resolved to) `v`. */
  value(v: unknown): void {
    if (!this.#settle()) return;
    const value = v === undefined ? null : v;
    if (this.#check !== undefined) {
      const bad = checkOutput(this.#req.name, value, this.#entry.validateOutput!, this.#check);
      if (bad !== null) return this.#fail(bad);
    }
    if (this.#observer !== undefined) emitEvent(this.#observer, this.#req, "completed", Date.now());
    this.#sink.resolve(value);
  }

  /** The handler threw or rejected with `e`. */
  error(e: unknown): void {
    if (!this.#settle()) return;
    this.#fail(mapHandlerError(this.#entry, e, this.#req.controller));
  }

  /** The call's control aborted (caller, deadline, parent, connection). */
  aborted(reason: unknown): void {
    if (!this.#settle()) return;
    this.#fail(reason);
  }
}

/** Runs the checks; throws the {@link CallError} of the first that fails. */
function checked(req: DispatchRequest): OperationEntry {
  const name = req.name;
  const entry = req.entry ?? req.router.lookup(name, req.peer);
  if (entry === undefined) throw new CallError("NOT_FOUND", `no such operation: ${name}`);
  checkEntry(entry, name, req.fromWire, req.expect, req.principal);
  const issues = entry.validateInput(req.input);
  if (issues !== null) {
    throw new CallError("INVALID_INPUT", `input of ${name} does not match its schema`, {
      details: { errors: issues },
    });
  }
  return entry;
}

/**
 * The deadline: calls default to 30 s (a request may shorten it),
 * subscriptions have none unless asked; the parent's deadline always
 * bounds it.
 */
function deadlineOf(req: DispatchRequest, isSub: boolean, now: number): number | undefined {
  let deadline: number | undefined;
  if (isSub) {
    if (req.timeoutMs !== undefined) deadline = now + req.timeoutMs;
  } else {
    const def = req.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    deadline = now + (req.timeoutMs === undefined ? def : Math.min(req.timeoutMs, def));
  }
  if (req.inheritedDeadline !== undefined) {
    deadline = deadline === undefined
      ? req.inheritedDeadline
      : Math.min(deadline, req.inheritedDeadline);
  }
  return deadline;
}

/**
 * Runs the checks and starts the handler. A query or mutation reports to
 * `sink` and this returns undefined; a subscription returns its items.
 * Throws {@link CallError} synchronously when a check fails.
 */
export function dispatchCall(
  req: DispatchRequest,
  sink: CallSink,
): AsyncIterator<unknown> | undefined {
  const observer = req.router.observer;
  // One clock read for the request, its checks, its start and its deadline.
  const now = Date.now();
  if (observer !== undefined) emitEvent(observer, req, "requested", now);
  let entry: OperationEntry;
  try {
    entry = checked(req);
  } catch (e) {
    if (observer !== undefined) emitEvent(observer, req, endType(e), now, e);
    throw e;
  }
  const isSub = entry.spec.type === "subscription";
  const deadline = deadlineOf(req, isSub, now);
  const control = req.controller;
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (deadline !== undefined) {
    const ms = deadline - now;
    if (ms <= 0) {
      control.abort(deadlineError(req.name));
    } else if (req.deadlineTimer !== false) {
      timer = setTimeout(() => control.abort(deadlineError(req.name)), ms);
    }
  }
  sink.deadline = deadline;
  const ctx = new HandlerContext(req, entry, deadline, startOperation);
  if (observer !== undefined) emitEvent(observer, req, "running", now);
  if (!isSub) {
    const run = new CallRun(req, entry, sink, observer, timer);
    if (control.aborted) {
      run.aborted(control.reason);
      return undefined;
    }
    control.target = run;
    let out: unknown;
    try {
      out = entry.run(req.input, ctx);
    } catch (e) {
      run.error(e);
      return undefined;
    }
    if (
      out !== null && (typeof out === "object" || typeof out === "function") &&
      typeof (out as PromiseLike<unknown>).then === "function"
    ) {
      (out as PromiseLike<unknown>).then((v) => run.value(v), (e) => run.error(e));
    } else {
      run.value(out);
    }
    return undefined;
  }
  let items = startSubscription(req, entry, ctx, timer);
  if (observer !== undefined) items = observedItems(items, observer, req);
  return items;
}

/**
 * Runs the checks and starts the handler, with the outcome of a query or
 * mutation as a promise (in-process calls and child calls). Throws
 * {@link CallError} synchronously when a check fails.
 */
export function startOperation(req: DispatchRequest): StartedCall {
  const sink = new PromiseSink();
  const items = dispatchCall(req, sink);
  if (items === undefined) return { kind: "call", deadline: sink.deadline, result: sink.promise };
  return { kind: "subscription", deadline: sink.deadline, items };
}

/** A {@link CallSink} that settles a promise. */
class PromiseSink implements CallSink {
  deadline: number | undefined = undefined;
  readonly promise: Promise<unknown>;
  resolve!: (value: unknown) => void;
  reject!: (error: unknown) => void;
  constructor() {
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

function startSubscription(
  req: DispatchRequest,
  entry: OperationEntry,
  ctx: HandlerContext,
  timer: ReturnType<typeof setTimeout> | undefined,
): AsyncIterator<unknown> {
  const control = req.controller;
  let source: AsyncIterator<unknown>;
  try {
    const iterable = entry.run(req.input, ctx) as AsyncIterable<unknown>;
    if (iterable === null || typeof iterable !== "object" || !(Symbol.asyncIterator in iterable)) {
      throw new TypeError(`${req.name}: subscribe handler did not return an async iterable`);
    }
    source = iterable[Symbol.asyncIterator]();
  } catch (e) {
    if (timer !== undefined) clearTimeout(timer);
    throw mapHandlerError(entry, e, control);
  }
  const check = outputCheckOf(req, entry);
  return guardIterator(
    source,
    entry,
    control,
    () => clearTimeout(timer),
    check && ((v) => checkOutput(req.name, v, entry.validateOutput!, check)),
  );
}

/** A subscription's items, reporting its end to the observer once. */
function observedItems(
  items: AsyncIterator<unknown>,
  observer: CallObserver,
  req: DispatchRequest,
): AsyncIterator<unknown> {
  let over = false;
  const end = (type: CallEvent["type"], err?: unknown) => {
    if (!over) {
      over = true;
      emitEvent(observer, req, type, Date.now(), err);
    }
  };
  return {
    async next() {
      try {
        const r = await items.next();
        if (r.done) end("completed");
        return r;
      } catch (e) {
        end(endType(e), e);
        throw e;
      }
    },
    async return() {
      end("aborted");
      return await (items.return?.() ??
        Promise.resolve({ done: true as const, value: undefined }));
    },
  };
}

/** Wraps a handler's iterator: stops on abort, maps errors, cleans up once. */
function guardIterator(
  source: AsyncIterator<unknown>,
  entry: OperationEntry,
  control: CallControl,
  cleanup: () => void,
  check?: (item: unknown) => CallError | null,
): AsyncIterator<unknown> {
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    cleanup();
    source.return?.()?.catch?.(() => {});
  };
  // The pending `next`, rejected when the call aborts while it waits.
  let waiting: ((reason: unknown) => void) | undefined;
  control.target = {
    aborted(reason) {
      const w = waiting;
      waiting = undefined;
      if (w !== undefined) {
        finish();
        w(reason);
      }
    },
  };
  return {
    next(): Promise<IteratorResult<unknown>> {
      if (finished) return Promise.resolve({ done: true, value: undefined });
      if (control.aborted) {
        finish();
        return Promise.reject(control.reason);
      }
      return new Promise((resolve, reject) => {
        let settled = false;
        waiting = (reason) => {
          if (settled) return;
          settled = true;
          reject(reason);
        };
        let p: Promise<IteratorResult<unknown>>;
        try {
          p = source.next();
        } catch (e) {
          p = Promise.reject(e);
        }
        p.then(
          (r) => {
            if (settled) return;
            settled = true;
            waiting = undefined;
            if (r.done) {
              finished = true;
              cleanup();
            } else if (check) {
              const bad = check(r.value === undefined ? null : r.value);
              if (bad) {
                finish();
                reject(bad);
                return;
              }
            }
            resolve(r);
          },
          (e) => {
            if (settled) return;
            settled = true;
            waiting = undefined;
            finished = true;
            cleanup();
            reject(mapHandlerError(entry, e, control));
          },
        );
      });
    },
    return(): Promise<IteratorResult<unknown>> {
      finish();
      return Promise.resolve({ done: true, value: undefined });
    },
  };
}
