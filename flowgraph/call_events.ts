/**
 * The call events a call graph is built from: the dispatcher's observer
 * events of `@alknet/call` (`requested`, `running`, `completed`, `failed`,
 * `aborted`), and how wire envelopes (`call.requested`, `call.responded`,
 * `call.completed`, `call.error`, `call.aborted`) map onto them.
 *
 * @module
 */

import type { CallStatus } from "./call_status.ts";
import { FlowgraphError } from "./errors.ts";

/**
 * What happened to a call; each type moves the call to the status of the
 * same name (`requested` creates it as `pending`).
 *
 * @example
 * ```ts
 * import type { CallEventType } from "@alknet/flowgraph";
 * const t: CallEventType = "requested";
 * ```
 */
export type CallEventType = "requested" | "running" | "completed" | "failed" | "aborted";

/**
 * One step in a call's life, shaped like `@alknet/call`'s `CallEvent` (what
 * an `OperationRegistry` observer receives), so an observer can be handed
 * straight to a recorder.
 *
 * @example
 * ```ts
 * import type { CallEventLike } from "@alknet/flowgraph";
 * const e: CallEventLike = { type: "failed", id: "c1", operation: "users/get", at: Date.now(), code: "NOT_FOUND" };
 * ```
 */
export interface CallEventLike {
  /** What happened. */
  type: CallEventType;
  /** The call's id. */
  id: string;
  /** The composing call's id, for child calls. */
  parentId?: string;
  /** The operation, `ns/op`. */
  operation: string;
  /** When, in epoch milliseconds. */
  at: number;
  /** The error code, for `failed`. */
  code?: string;
}

/**
 * A call-protocol envelope as it travels: `{type, id, payload}`. Any
 * `@alknet/call` `Envelope` fits.
 *
 * @example
 * ```ts
 * import type { CallEnvelopeLike } from "@alknet/flowgraph";
 * const env: CallEnvelopeLike = { type: "call.requested", id: "c1", payload: { operationId: "/node/ping", input: {} } };
 * ```
 */
export interface CallEnvelopeLike {
  /** `call.requested`, `call.responded`, `call.completed`, `call.error` or `call.aborted`. */
  type: string;
  /** The call's id. */
  id: string;
  /** The payload. */
  payload?: unknown;
}

/**
 * Options of {@link eventsFromEnvelope}.
 *
 * @example
 * ```ts
 * import type { EnvelopeOptions } from "@alknet/flowgraph";
 * const opts: EnvelopeOptions = { at: 0, isSubscription: (op) => op.endsWith("/ticks") };
 * ```
 */
export interface EnvelopeOptions {
  /** The time to stamp on the events (default `Date.now()`). */
  at?: number;
  /**
   * Whether an operation streams (default: none do). A `call.responded` ends
   * a query or mutation, but only delivers an item of a subscription.
   */
  isSubscription?: (operation: string) => boolean;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The call events one wire envelope stands for, given what is known of the
 * call so far (`current`, undefined for an unknown id). The wire has no
 * "handler started" signal and no parent ids, so:
 *
 * - `call.requested` → `requested` (operation without the leading `/`);
 * - the first `call.responded` or a `call.completed` of a pending call →
 *   `running` then, unless it is a subscription item, `completed`;
 *   further items of a running subscription → nothing;
 * - `call.error` → `failed` with the payload's code;
 * - `call.aborted` → `aborted`, or nothing for unknown or finished calls
 *   (the protocol ignores those aborts too).
 *
 * Other combinations yield the event anyway, for the call graph to refuse.
 * An envelope that is not one of the five types is `INVALID_EVENT`.
 *
 * @example
 * ```ts
 * import { eventsFromEnvelope } from "@alknet/flowgraph";
 * const req = eventsFromEnvelope({ type: "call.requested", id: "c1", payload: { operationId: "/node/ping" } }, undefined, { at: 1 });
 * console.log(req); // [{ type: "requested", id: "c1", operation: "node/ping", at: 1 }]
 * const done = eventsFromEnvelope({ type: "call.responded", id: "c1", payload: { output: 1 } }, { status: "pending", operation: "node/ping" }, { at: 2 });
 * console.log(done.map((e) => e.type)); // ["running", "completed"]
 * ```
 */
export function eventsFromEnvelope(
  envelope: CallEnvelopeLike,
  current: { status: CallStatus; operation: string } | undefined,
  options: EnvelopeOptions = {},
): CallEventLike[] {
  const at = options.at ?? Date.now();
  const id = envelope.id;
  const payload = isRecord(envelope.payload) ? envelope.payload : {};
  const operation = current?.operation ?? "";
  const event = (type: CallEventType): CallEventLike => ({ type, id, operation, at });
  switch (envelope.type) {
    case "call.requested": {
      const op = payload.operationId;
      if (typeof op !== "string") {
        throw new FlowgraphError("INVALID_EVENT", "call.requested without a string operationId", {
          key: id,
        });
      }
      return [{ type: "requested", id, operation: op.startsWith("/") ? op.slice(1) : op, at }];
    }
    case "call.responded": {
      const streams = options.isSubscription?.(operation) ?? false;
      if (current?.status === "pending") {
        return streams ? [event("running")] : [event("running"), event("completed")];
      }
      if (current?.status === "running" && streams) return [];
      return [event("completed")];
    }
    case "call.completed":
      return current?.status === "pending"
        ? [event("running"), event("completed")]
        : [event("completed")];
    case "call.error": {
      const e = event("failed");
      if (typeof payload.code === "string") e.code = payload.code;
      return [e];
    }
    case "call.aborted":
      return current === undefined || (current.status !== "pending" && current.status !== "running")
        ? []
        : [event("aborted")];
    default:
      throw new FlowgraphError("INVALID_EVENT", `unknown envelope type ${envelope.type}`, {
        key: id,
      });
  }
}

const EVENT_TYPES: readonly string[] = ["requested", "running", "completed", "failed", "aborted"];

/**
 * Checks that a value (e.g. an item read from a node's `flow/calls`) is a
 * call event; `INVALID_EVENT` naming the first problem. Unknown fields are
 * dropped.
 *
 * @example
 * ```ts
 * import { checkCallEvent } from "@alknet/flowgraph";
 * console.log(checkCallEvent({ type: "running", id: "c1", operation: "a/b", at: 5, extra: true }));
 * // { type: "running", id: "c1", operation: "a/b", at: 5 }
 * ```
 */
export function checkCallEvent(value: unknown): CallEventLike {
  const fail = (what: string): never => {
    throw new FlowgraphError("INVALID_EVENT", `call event: ${what}`);
  };
  if (!isRecord(value)) return fail("not an object");
  const { type, id, parentId, operation, at, code } = value;
  if (typeof type !== "string" || !EVENT_TYPES.includes(type)) return fail("bad type");
  if (typeof id !== "string" || id === "") return fail("id is not a non-empty string");
  if (typeof operation !== "string") return fail("operation is not a string");
  if (typeof at !== "number" || !Number.isFinite(at)) return fail("at is not a finite number");
  const event: CallEventLike = { type: type as CallEventType, id, operation, at };
  if (parentId !== undefined) {
    if (typeof parentId !== "string") return fail("parentId is not a string");
    event.parentId = parentId;
  }
  if (code !== undefined) {
    if (typeof code !== "string") return fail("code is not a string");
    event.code = code;
  }
  return event;
}
