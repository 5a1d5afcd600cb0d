/**
 * One call as the dispatcher sees it ({@link DispatchRequest}), what
 * starting it gives back ({@link StartedCall}), the default deadline and
 * the error a passed deadline answers.
 *
 * @module
 */

import type { Identity, Principal } from "./access.ts";
import type { Caller } from "./caller.ts";
import { CallError } from "./errors.ts";
import type { OperationRouter } from "./router.ts";
import type { OperationSpec } from "./spec.ts";

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

/** A started call: a result promise, or an iterator of subscription items. */
export type StartedCall =
  | { kind: "call"; spec: OperationSpec; deadline?: number; result: Promise<unknown> }
  | { kind: "subscription"; spec: OperationSpec; deadline?: number; items: AsyncIterator<unknown> };

/** Starts a call: what the dispatcher provides to code that starts child calls. */
export type StartOperation = (req: DispatchRequest) => StartedCall;

/** The error a passed deadline aborts a call with (`TIMEOUT`). */
export function deadlineError(name: string): CallError {
  return new CallError("TIMEOUT", `${name} did not finish before its deadline`);
}
