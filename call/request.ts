/**
 * One call as the dispatcher sees it ({@link DispatchRequest}), its abort
 * state ({@link CallControl}), what starting it gives back
 * ({@link StartedCall}), the default deadline and the error a passed
 * deadline answers.
 *
 * @module
 */

import type { Identity, Principal } from "./access.ts";
import type { Caller } from "./caller.ts";
import { CallError } from "./errors.ts";
import type { OperationEntry, OperationRouter } from "./router.ts";

/**
 * Default deadline of queries and mutations: 30 s.
 *
 * @example
 * ```ts
 * import { DEFAULT_TIMEOUT_MS } from "@alknet/call";
 * console.log(DEFAULT_TIMEOUT_MS); // 30000
 * ```
 */
export const DEFAULT_TIMEOUT_MS = 30_000;

/** The kind of answer a caller expects: one result, or a stream of items. */
export type ExpectedKind = "call" | "subscription";

/** One call to start. */
export interface DispatchRequest {
  /** Where names resolve. */
  router: OperationRouter;
  /** `router.lookup(name)` when the caller looked it up already (not with `peer`). */
  entry?: OperationEntry;
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
  /** The call's abort state; the dispatcher aborts it when the deadline passes. */
  controller: CallControl;
  /** Requested timeout in ms (may only shorten the default for calls). */
  timeoutMs?: number;
  /** Default timeout for calls (30 s). */
  defaultTimeoutMs?: number;
  /** The parent's deadline, inherited. */
  inheritedDeadline?: number;
  /** The connection the call arrived on. */
  connection?: Caller;
  /** Route to this peer only. */
  peer?: string;
  /**
   * The kind the caller expects; a mismatch answers INVALID_OPERATION_TYPE.
   * Undefined: not checked (a peer that does not say).
   */
  expect?: ExpectedKind;
  /**
   * Arm a timer for the deadline (default true). A connection passes false
   * and enforces deadlines with its periodic sweep, which is much cheaper
   * than a timer per call.
   */
  deadlineTimer?: boolean;
}

/** Told once when a {@link CallControl} aborts, with the reason. */
export type AbortHook = (reason: unknown) => void;

/** The dispatcher's side of a call, told first when its {@link CallControl} aborts. */
export interface AbortTarget {
  /** The call was aborted with `reason`. */
  aborted(reason: unknown): void;
}

/**
 * A call's abort state: what an `AbortController` per call did, without
 * creating one unless the handler reads `ctx.signal`. The dispatcher and
 * the child calls linked to it are told through hooks (no event objects);
 * the signal, when someone asked for it, aborts after them with the same
 * reason.
 */
export class CallControl {
  #aborted = false;
  #reason: unknown = undefined;
  #ac: AbortController | undefined = undefined;
  #target: AbortTarget | undefined = undefined;
  #links: AbortHook[] | undefined = undefined;

  /** True once aborted. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** Why it was aborted (undefined before). */
  get reason(): unknown {
    return this.#reason;
  }

  /** An `AbortSignal` that follows this control, made on first use. */
  get signal(): AbortSignal {
    if (this.#ac === undefined) {
      this.#ac = new AbortController();
      if (this.#aborted) this.#ac.abort(this.#reason);
    }
    return this.#ac.signal;
  }

  /** The dispatcher's side of the call (one), told first when the call aborts. */
  set target(target: AbortTarget | undefined) {
    this.#target = target;
  }

  /** Tells `hook` when this aborts (at once if it has); returns what unlinks it. */
  link(hook: AbortHook): () => void {
    if (this.#aborted) {
      hook(this.#reason);
      return () => {};
    }
    (this.#links ??= []).push(hook);
    return () => {
      const l = this.#links;
      const i = l === undefined ? -1 : l.indexOf(hook);
      if (i >= 0) l!.splice(i, 1);
    };
  }

  /**
   * Aborts once: the dispatcher's target, then the signal's listeners, then
   * the linked children, all with `reason` (an `AbortError` when absent).
   */
  abort(reason?: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason === undefined ? new DOMException("call aborted", "AbortError") : reason;
    const target = this.#target;
    this.#target = undefined;
    if (target !== undefined) target.aborted(this.#reason);
    this.#ac?.abort(this.#reason);
    const links = this.#links;
    this.#links = undefined;
    if (links !== undefined) { for (const l of links) l(this.#reason); }
  }
}

/** A started call: a result promise, or an iterator of subscription items. */
export type StartedCall =
  | { kind: "call"; deadline?: number; result: Promise<unknown> }
  | { kind: "subscription"; deadline?: number; items: AsyncIterator<unknown> };

/**
 * Where a query's or mutation's outcome goes when it is dispatched with
 * `dispatchCall`: exactly one of `resolve` (the output, checked) or
 * `reject` (the error to answer, or the abort reason), possibly before
 * `dispatchCall` returns. `deadline` is set before the handler runs.
 */
export interface CallSink {
  /** The call's deadline (epoch ms), when it has one. */
  deadline: number | undefined;
  /** The output (null for undefined). */
  resolve(value: unknown): void;
  /** The error to answer, or the reason the call was aborted. */
  reject(error: unknown): void;
}

/** Starts a call: what the dispatcher provides to code that starts child calls. */
export type StartOperation = (req: DispatchRequest) => StartedCall;

/** The error a passed deadline aborts a call with (`TIMEOUT`). */
export function deadlineError(name: string): CallError {
  return new CallError("TIMEOUT", `${name} did not finish before its deadline`);
}
