/**
 * The dispatcher: one path for calls from the wire and for composed calls.
 * Order (DESIGN 5.3): lookup → internal-from-wire NOT_FOUND → access
 * FORBIDDEN → input INVALID_INPUT → handler. Also deadlines, the abort
 * cascade and the mapping of handler errors.
 *
 * @module
 */

import type { Identity } from "./access.ts";
import { accessDenial, type Principal } from "./access.ts";
import type { CallContext, ChildPolicy, InvokeOptions, ScopedEnv } from "./context.ts";
import type { CallConnection } from "./connection.ts";
import { CallError, isProtocolErrorCode } from "./errors.ts";
import {
  allowed,
  type LocalInvokeOptions,
  type OperationEntry,
  type OperationRouter,
  type OperationSpec,
  type PeerInfo,
} from "./registry.ts";
import { newCallId } from "./wire.ts";

/**
 * Default deadline of queries and mutations: 30 s.
 *
 * @example
 * ```ts
 * import { DEFAULT_TIMEOUT_MS } from "./dispatch.ts";
 * console.log(DEFAULT_TIMEOUT_MS); // 30000
 * ```
 */
export const DEFAULT_TIMEOUT_MS = 30_000;

/** One call to start. */
export interface DispatchRequest {
  /** Where names resolve. */
  router: OperationRouter;
  /** Operation name (`ns/op`). */
  name: string;
  /** Input value. */
  input: unknown;
  /** This call's id. */
  requestId: string;
  /** The composing call's id. */
  parentId?: string;
  /** The authenticated caller. */
  identity: Identity | null;
  /** Who access is checked against (the caller, or a composing handler's authority). */
  principal: Principal | null;
  /** True for calls that arrived from a peer (internal operations are then NOT_FOUND). */
  fromWire: boolean;
  /** Original caller id of a forwarded call. */
  forwardedFor?: string;
  /** The call's controller; the dispatcher aborts it when the deadline passes. */
  controller: AbortController;
  /** Requested timeout in ms (may only shorten the default for calls). */
  timeoutMs?: number;
  /** Default timeout for calls (30 s). */
  defaultTimeoutMs?: number;
  /** The parent's deadline, inherited. */
  inheritedDeadline?: number;
  /** The connection the call arrived on. */
  connection?: CallConnection;
  /** Route to this peer only. */
  peer?: string;
  /** The kind the caller expects, when it knows (local calls). */
  expect?: "call" | "subscription";
  /**
   * Arm a timer for the deadline (default true). A connection passes false
   * and enforces deadlines with its periodic sweep, which is much cheaper
   * than a timer per call.
   */
  deadlineTimer?: boolean;
}

/**
 * One step in a call's life, for call graphs and tracing: `requested`, then
 * `running` once the checks passed, then `completed`, `failed` (with the
 * error code) or `aborted`. A call refused by a check goes straight from
 * `requested` to `failed`.
 *
 * @example
 * ```ts
 * import type { CallEvent } from "./dispatch.ts";
 * const e: CallEvent = { type: "running", id: "1", operation: "node/ping", at: Date.now() };
 * ```
 */
export interface CallEvent {
  /** What happened. */
  type: "requested" | "running" | "completed" | "failed" | "aborted";
  /** The call's id. */
  id: string;
  /** The composing call's id, for child calls. */
  parentId?: string;
  /** The operation. */
  operation: string;
  /** Epoch milliseconds. */
  at: number;
  /** The error code, for `failed`. */
  code?: string;
}

/**
 * Receives {@link CallEvent}s; set it as `observer` on a registry or a
 * composite environment. Exceptions it throws are ignored.
 *
 * @example
 * ```ts
 * import { OperationRegistry } from "./registry.ts";
 * const reg = new OperationRegistry({ observer: (e) => console.log(e.type, e.operation, e.code ?? "") });
 * reg.register({ name: "demo/x", type: "query", handler: () => 1 });
 * await reg.invoke("demo/x", null);
 * ```
 */
export type CallObserver = (event: CallEvent) => void;

/** A started call: a result promise, or an iterator of subscription items. */
export type StartedCall =
  | { kind: "call"; spec: OperationSpec; deadline?: number; result: Promise<unknown> }
  | { kind: "subscription"; spec: OperationSpec; deadline?: number; items: AsyncIterator<unknown> };

function timeoutError(name: string): CallError {
  return new CallError("TIMEOUT", `${name} did not finish before its deadline`);
}

/** Maps what a handler threw (or the abort reason) to the error answered. */
function mapHandlerError(entry: OperationEntry, err: unknown, signal: AbortSignal): unknown {
  if (signal.aborted && signal.reason instanceof CallError) return signal.reason;
  const name = entry.spec.name;
  if (err instanceof CallError) {
    if (isProtocolErrorCode(err.code)) return err;
    const check = entry.checkError(err.code, err.details);
    if (check === undefined) {
      return new CallError("INTERNAL", `${name} answered the undeclared error code ${err.code}`, {
        details: { original_code: err.code, original_message: err.message },
        cause: err,
      });
    }
    if (check !== null) {
      return new CallError(
        "INTERNAL",
        `${name} answered ${err.code} with details that do not match its schema`,
        {
          details: { original_code: err.code, errors: check },
          cause: err,
        },
      );
    }
    const declared = entry.spec.errors.find((e) => e.code === err.code);
    if (declared?.retryable !== undefined && declared.retryable !== err.retryable) {
      return new CallError(err.code, err.message, {
        retryable: declared.retryable,
        details: err.details,
      });
    }
    return err;
  }
  if (signal.aborted && err === signal.reason) return err;
  return new CallError("INTERNAL", `internal error in ${name}`, { cause: err });
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("call aborted", "AbortError");
}

/**
 * Runs the checks and starts the handler. Throws {@link CallError}
 * synchronously when a check fails.
 */
export function startOperation(req: DispatchRequest): StartedCall {
  const observer = req.router.observer;
  if (observer === undefined) return startChecked(req);
  return observed(req, observer);
}

function emit(
  observer: CallObserver,
  req: DispatchRequest,
  type: CallEvent["type"],
  err?: unknown,
): void {
  const event: CallEvent = { type, id: req.requestId, operation: req.name, at: Date.now() };
  if (req.parentId !== undefined) event.parentId = req.parentId;
  if (err instanceof CallError) event.code = err.code;
  try {
    observer(event);
  } catch {
    // an observer must not break calls
  }
}

function ended(observer: CallObserver, req: DispatchRequest, err: unknown): void {
  emit(observer, req, err instanceof CallError ? "failed" : "aborted", err);
}

function observed(req: DispatchRequest, observer: CallObserver): StartedCall {
  emit(observer, req, "requested");
  let started: StartedCall;
  try {
    started = startChecked(req);
  } catch (e) {
    ended(observer, req, e);
    throw e;
  }
  emit(observer, req, "running");
  if (started.kind === "call") {
    started.result.then(() => emit(observer, req, "completed"), (e) => ended(observer, req, e));
    return started;
  }
  const items = started.items;
  let over = false;
  const end = (f: () => void) => {
    if (!over) {
      over = true;
      f();
    }
  };
  return {
    kind: "subscription",
    spec: started.spec,
    deadline: started.deadline,
    items: {
      async next() {
        try {
          const r = await items.next();
          if (r.done) end(() => emit(observer, req, "completed"));
          return r;
        } catch (e) {
          end(() => ended(observer, req, e));
          throw e;
        }
      },
      async return() {
        end(() => emit(observer, req, "aborted"));
        return await (items.return?.() ??
          Promise.resolve({ done: true as const, value: undefined }));
      },
    },
  };
}

function startChecked(req: DispatchRequest): StartedCall {
  const { router, name } = req;
  const entry = router.lookup(name, req.peer);
  if (entry === undefined) throw new CallError("NOT_FOUND", `no such operation: ${name}`);
  const spec = entry.spec;
  if (req.fromWire && spec.visibility === "internal") {
    throw new CallError("NOT_FOUND", `no such operation: ${name}`);
  }
  const isSub = spec.type === "subscription";
  if (req.expect !== undefined && (req.expect === "subscription") !== isSub) {
    throw new CallError(
      "INVALID_OPERATION_TYPE",
      isSub ? `${name} is a subscription: subscribe to it` : `${name} is a ${spec.type}: call it`,
    );
  }
  const denial = accessDenial(spec.access, req.principal);
  if (denial !== null) throw new CallError("FORBIDDEN", `${name} ${denial}`);
  const issues = entry.validateInput(req.input);
  if (issues !== null) {
    throw new CallError("INVALID_INPUT", `input of ${name} does not match its schema`, {
      details: { errors: issues },
    });
  }

  // Deadline: calls default to 30 s (a request may shorten it), subscriptions
  // have none unless asked; the parent's deadline always bounds it.
  const now = Date.now();
  let deadline: number | undefined;
  if (isSub) {
    if (req.timeoutMs !== undefined) deadline = now + req.timeoutMs;
  } else {
    const def = req.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    deadline = now + Math.min(req.timeoutMs ?? def, def);
  }
  if (req.inheritedDeadline !== undefined) {
    deadline = deadline === undefined
      ? req.inheritedDeadline
      : Math.min(deadline, req.inheritedDeadline);
  }
  const controller = req.controller;
  const signal = controller.signal;
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (deadline !== undefined) {
    const ms = deadline - now;
    if (ms <= 0) {
      controller.abort(timeoutError(name));
    } else if (req.deadlineTimer !== false) {
      timer = setTimeout(() => controller.abort(timeoutError(name)), ms);
    }
  }
  const ctx = new Context(req, entry, deadline);

  if (!isSub) {
    const result = new Promise<unknown>((resolve, reject) => {
      let settled = false;
      const done = () => {
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        if (settled) return;
        done();
        reject(abortReason(signal));
      };
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener("abort", onAbort);
      let out: unknown;
      try {
        out = entry.run(req.input, ctx);
      } catch (e) {
        done();
        reject(mapHandlerError(entry, e, signal));
        return;
      }
      Promise.resolve(out).then(
        (v) => {
          if (settled) return;
          done();
          resolve(v === undefined ? null : v);
        },
        (e) => {
          if (settled) return;
          done();
          reject(mapHandlerError(entry, e, signal));
        },
      );
    });
    return { kind: "call", spec, deadline, result };
  }

  let source: AsyncIterator<unknown>;
  try {
    const iterable = entry.run(req.input, ctx) as AsyncIterable<unknown>;
    if (iterable === null || typeof iterable !== "object" || !(Symbol.asyncIterator in iterable)) {
      throw new TypeError(`${name}: subscribe handler did not return an async iterable`);
    }
    source = iterable[Symbol.asyncIterator]();
  } catch (e) {
    if (timer !== undefined) clearTimeout(timer);
    throw mapHandlerError(entry, e, signal);
  }
  return {
    kind: "subscription",
    spec,
    deadline,
    items: guardIterator(source, entry, signal, () => clearTimeout(timer)),
  };
}

/**
 * The error a deadline aborts a call with.
 *
 * @example
 * ```ts
 * import { deadlineError } from "./dispatch.ts";
 * console.log(deadlineError("node/ping").code); // "TIMEOUT"
 * ```
 */
export function deadlineError(name: string): CallError {
  return timeoutError(name);
}

/** Wraps a handler's iterator: stops on abort, maps errors, cleans up once. */
function guardIterator(
  source: AsyncIterator<unknown>,
  entry: OperationEntry,
  signal: AbortSignal,
  cleanup: () => void,
): AsyncIterator<unknown> {
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    cleanup();
    source.return?.()?.catch?.(() => {});
  };
  return {
    next(): Promise<IteratorResult<unknown>> {
      if (finished) return Promise.resolve({ done: true, value: undefined });
      if (signal.aborted) {
        finish();
        return Promise.reject(abortReason(signal));
      }
      return new Promise((resolve, reject) => {
        let settled = false;
        const onAbort = () => {
          if (settled) return;
          settled = true;
          finish();
          reject(abortReason(signal));
        };
        signal.addEventListener("abort", onAbort, { once: true });
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
            signal.removeEventListener("abort", onAbort);
            if (r.done) {
              finished = true;
              cleanup();
            }
            resolve(r);
          },
          (e) => {
            if (settled) return;
            settled = true;
            signal.removeEventListener("abort", onAbort);
            finished = true;
            cleanup();
            reject(mapHandlerError(entry, e, signal));
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

class Context implements CallContext {
  readonly requestId: string;
  readonly parentId?: string;
  readonly operation: string;
  readonly identity: Identity | null;
  readonly forwardedFor?: string;
  readonly signal: AbortSignal;
  readonly deadline?: number;
  readonly capabilities: Readonly<Record<string, unknown>>;
  readonly connection?: CallConnection;
  #req: DispatchRequest;
  #entry: OperationEntry;
  #env: ScopedEnv | undefined;

  constructor(req: DispatchRequest, entry: OperationEntry, deadline: number | undefined) {
    this.requestId = req.requestId;
    if (req.parentId !== undefined) this.parentId = req.parentId;
    this.operation = req.name;
    this.identity = req.identity;
    if (req.forwardedFor !== undefined) this.forwardedFor = req.forwardedFor;
    this.signal = req.controller.signal;
    if (deadline !== undefined) this.deadline = deadline;
    this.capabilities = entry.capabilities;
    if (req.connection !== undefined) this.connection = req.connection;
    this.#req = req;
    this.#entry = entry;
  }

  get env(): ScopedEnv {
    return this.#env ??= new Env(this.#req.router, this.#entry, this);
  }
}

/** Links a child's controller to its parent signal and an optional extra signal. */
function linkChild(
  parent: AbortSignal | undefined,
  policy: ChildPolicy,
  extra: AbortSignal | undefined,
): { controller: AbortController; unlink: () => void } {
  const controller = new AbortController();
  const unlinks: (() => void)[] = [];
  const link = (s: AbortSignal) => {
    if (s.aborted) {
      controller.abort(s.reason);
      return;
    }
    const f = () => controller.abort(s.reason);
    s.addEventListener("abort", f, { once: true });
    unlinks.push(() => s.removeEventListener("abort", f));
  };
  if (parent && policy === "abort-dependents") link(parent);
  if (extra) link(extra);
  return { controller, unlink: () => unlinks.forEach((u) => u()) };
}

class Env implements ScopedEnv {
  #router: OperationRouter;
  #entry: OperationEntry;
  #ctx: CallContext;

  constructor(router: OperationRouter, entry: OperationEntry, ctx: CallContext) {
    this.#router = router;
    this.#entry = entry;
    this.#ctx = ctx;
  }

  #request(name: string, input: unknown, options: InvokeOptions, expect: "call" | "subscription") {
    const entry = this.#entry;
    if (!allowed(entry.allow, name)) {
      throw new CallError(
        "FORBIDDEN",
        `${entry.spec.name} may not call ${name}: not in its allow list`,
      );
    }
    const ctx = this.#ctx;
    const policy = options.onParentAbort ?? entry.childPolicy;
    const { controller, unlink } = linkChild(ctx.signal, policy, options.signal);
    const req: DispatchRequest = {
      router: this.#router,
      name,
      input,
      requestId: newCallId(),
      parentId: ctx.requestId,
      identity: ctx.identity,
      principal: entry.authority ?? ctx.identity,
      fromWire: false,
      forwardedFor: ctx.forwardedFor,
      controller,
      timeoutMs: options.timeoutMs,
      inheritedDeadline: ctx.deadline,
      peer: options.peer,
      expect,
    };
    return { req, unlink, controller };
  }

  invoke(name: string, input: unknown, options: InvokeOptions = {}): Promise<unknown> {
    let r;
    try {
      r = this.#request(name, input, options, "call");
      const started = startOperation(r.req);
      const { unlink } = r;
      return (started as { result: Promise<unknown> }).result.finally(unlink);
    } catch (e) {
      r?.unlink();
      return Promise.reject(e);
    }
  }

  subscribe(name: string, input: unknown, options: InvokeOptions = {}): AsyncIterable<unknown> {
    return lazyIterable(() => {
      const r = this.#request(name, input, options, "subscription");
      try {
        const started = startOperation(r.req);
        return withCleanup(
          (started as { items: AsyncIterator<unknown> }).items,
          r.unlink,
          r.controller,
        );
      } catch (e) {
        r.unlink();
        throw e;
      }
    });
  }

  list(): OperationSpec[] {
    return this.#router.list().map((e) => e.spec);
  }

  peers(): PeerInfo[] {
    return this.#router.peers();
  }
}

/** An iterator that runs `cleanup` once and aborts `controller` when the consumer stops early. */
function withCleanup(
  it: AsyncIterator<unknown>,
  cleanup: () => void,
  controller: AbortController,
): AsyncIterator<unknown> {
  let done = false;
  const end = () => {
    if (!done) {
      done = true;
      cleanup();
    }
  };
  return {
    async next() {
      try {
        const r = await it.next();
        if (r.done) end();
        return r;
      } catch (e) {
        end();
        throw e;
      }
    },
    async return() {
      if (!done) {
        controller.abort(new DOMException("subscription cancelled by its consumer", "AbortError"));
      }
      end();
      await it.return?.();
      return { done: true, value: undefined };
    },
  };
}

function lazyIterable(start: () => AsyncIterator<unknown>): AsyncIterable<unknown> {
  return {
    [Symbol.asyncIterator]() {
      let it: AsyncIterator<unknown> | undefined;
      let failed: unknown;
      try {
        it = start();
      } catch (e) {
        failed = e;
      }
      return {
        next: () => (it ? it.next() : Promise.reject(failed)),
        return:
          () => (it?.return ? it.return() : Promise.resolve({ done: true, value: undefined })),
      };
    },
  };
}

function topLevel(
  router: OperationRouter,
  name: string,
  input: unknown,
  options: LocalInvokeOptions,
  expect: "call" | "subscription",
) {
  const identity = options.identity ?? null;
  const { controller, unlink } = linkChild(undefined, "abort-dependents", options.signal);
  const req: DispatchRequest = {
    router,
    name,
    input,
    requestId: newCallId(),
    identity,
    principal: identity,
    fromWire: false,
    controller,
    timeoutMs: options.timeoutMs,
    peer: options.peer,
    expect,
  };
  return { req, unlink, controller };
}

/**
 * Calls a query or mutation through `router` in-process.
 *
 * @example
 * ```ts
 * import { OperationRegistry } from "./registry.ts";
 * import { invokeOperation } from "./dispatch.ts";
 * const reg = new OperationRegistry();
 * reg.register({ name: "demo/one", type: "query", handler: () => 1 });
 * console.log(await invokeOperation(reg, "demo/one", null)); // 1
 * ```
 */
export function invokeOperation(
  router: OperationRouter,
  name: string,
  input: unknown,
  options: LocalInvokeOptions = {},
): Promise<unknown> {
  let r;
  try {
    r = topLevel(router, name, input, options, "call");
    const started = startOperation(r.req) as { result: Promise<unknown> };
    return started.result.finally(r.unlink);
  } catch (e) {
    r?.unlink();
    return Promise.reject(e);
  }
}

/**
 * Starts a subscription through `router` in-process.
 *
 * @example
 * ```ts
 * import { OperationRegistry } from "./registry.ts";
 * import { subscribeOperation } from "./dispatch.ts";
 * const reg = new OperationRegistry();
 * reg.register({ name: "demo/two", type: "subscription", subscribe: async function* () { yield 1; yield 2; } });
 * for await (const x of subscribeOperation(reg, "demo/two", null)) console.log(x);
 * ```
 */
export function subscribeOperation(
  router: OperationRouter,
  name: string,
  input: unknown,
  options: LocalInvokeOptions = {},
): AsyncIterable<unknown> {
  return lazyIterable(() => {
    const r = topLevel(router, name, input, options, "subscription");
    try {
      const started = startOperation(r.req) as { items: AsyncIterator<unknown> };
      return withCleanup(started.items, r.unlink, r.controller);
    } catch (e) {
      r.unlink();
      throw e;
    }
  });
}
