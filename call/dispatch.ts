/**
 * The dispatcher: one path for calls from the wire, composed calls and
 * in-process calls. Order: lookup → internal-from-wire NOT_FOUND → kind
 * mismatch INVALID_OPERATION_TYPE → access FORBIDDEN → input INVALID_INPUT
 * → handler. Also deadlines, call events for the router's observer and the
 * mapping of what handlers throw.
 *
 * @module
 */

import { accessDenial } from "./access.ts";
import { CallError, isProtocolErrorCode } from "./errors.ts";
import { HandlerContext } from "./handler_context.ts";
import { checkOutput, defaultOutputValidation, type OutputCheck } from "./output_check.ts";
import {
  deadlineError,
  DEFAULT_TIMEOUT_MS,
  type DispatchRequest,
  type StartedCall,
} from "./request.ts";
import type { CallEvent, CallObserver, OperationEntry } from "./router.ts";

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
      controller.abort(deadlineError(name));
    } else if (req.deadlineTimer !== false) {
      timer = setTimeout(() => controller.abort(deadlineError(name)), ms);
    }
  }
  const ctx = new HandlerContext(req, entry, deadline, startOperation);
  const validateOutput = entry.validateOutput?.bind(entry);
  const outputCheck: OutputCheck | undefined = validateOutput === undefined
    ? undefined
    : { mode: router.validateOutput ?? defaultOutputValidation(), report: router.onInvalidOutput };

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
          const value = v === undefined ? null : v;
          const bad = outputCheck && checkOutput(name, value, validateOutput!, outputCheck);
          if (bad) reject(bad);
          else resolve(value);
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
    items: guardIterator(
      source,
      entry,
      signal,
      () => clearTimeout(timer),
      outputCheck && ((v) => checkOutput(name, v, validateOutput!, outputCheck)),
    ),
  };
}

/** Wraps a handler's iterator: stops on abort, maps errors, cleans up once. */
function guardIterator(
  source: AsyncIterator<unknown>,
  entry: OperationEntry,
  signal: AbortSignal,
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
