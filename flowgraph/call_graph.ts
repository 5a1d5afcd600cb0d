/**
 * The call graph: calls as they are requested, run and end, linked parent →
 * child when one call composes another. Kept in plain maps so that recording
 * costs little per event; {@link CallGraph.toFlowGraph} gives a
 * {@link FlowGraph} for the general algorithms and pictures.
 *
 * @module
 */

import { type CallStatus, canTransition, isTerminal } from "./call_status.ts";
import {
  type CallEnvelopeLike,
  type CallEventLike,
  type EnvelopeOptions,
  eventsFromEnvelope,
} from "./call_events.ts";
import { FlowgraphError } from "./errors.ts";
import { FlowGraph } from "./graph.ts";

/**
 * One call as the graph knows it. Records handed out are live and
 * read-only: copy them to keep a state.
 *
 * @example
 * ```ts
 * import type { CallRecord } from "@alknet/flowgraph";
 * const r: CallRecord = { id: "c1", operation: "users/get", status: "completed", requestedAt: 10, runningAt: 11, endedAt: 15 };
 * ```
 */
export interface CallRecord {
  /** The call's id. */
  readonly id: string;
  /** The operation, `ns/op`. */
  readonly operation: string;
  /** The composing call, for child calls. */
  readonly parentId?: string;
  /** Where it is. */
  readonly status: CallStatus;
  /** When it was requested (epoch ms). */
  readonly requestedAt: number;
  /** When its handler started. */
  readonly runningAt?: number;
  /** When it completed, failed or was aborted. */
  readonly endedAt?: number;
  /** The error code, for failed calls. */
  readonly code?: string;
}

/**
 * A call graph as JSON: when it was taken and every call in request order.
 * What a node's `flow/calls` snapshot returns.
 *
 * @example
 * ```ts
 * import type { CallGraphSnapshot } from "@alknet/flowgraph";
 * const s: CallGraphSnapshot = { at: 20, calls: [{ id: "c1", operation: "a/b", status: "pending", requestedAt: 10 }] };
 * ```
 */
export interface CallGraphSnapshot {
  /** When the snapshot was taken (epoch ms). */
  at: number;
  /** Calls in request order. */
  calls: CallRecord[];
}

/** Internal, mutable; every field set in the constructor (one hidden class). */
class Call implements CallRecord {
  status: CallStatus = "pending";
  runningAt: number | undefined = undefined;
  endedAt: number | undefined = undefined;
  code: string | undefined = undefined;
  constructor(
    readonly id: string,
    readonly operation: string,
    readonly parentId: string | undefined,
    readonly requestedAt: number,
  ) {}
}

/**
 * How long a call took: from request to end, or to `now` while it is still
 * pending or running (never negative).
 *
 * @example
 * ```ts
 * import { callDuration } from "@alknet/flowgraph";
 * console.log(callDuration({ id: "c", operation: "a/b", status: "completed", requestedAt: 10, endedAt: 25 })); // 15
 * console.log(callDuration({ id: "c", operation: "a/b", status: "running", requestedAt: 10 }, 40)); // 30
 * ```
 */
export function callDuration(record: CallRecord, now: number = Date.now()): number {
  return Math.max(0, (record.endedAt ?? now) - record.requestedAt);
}

function cleanCopy(r: CallRecord): CallRecord {
  const c: {
    id: string;
    operation: string;
    parentId?: string;
    status: CallStatus;
    requestedAt: number;
    runningAt?: number;
    endedAt?: number;
    code?: string;
  } = { id: r.id, operation: r.operation, status: r.status, requestedAt: r.requestedAt };
  if (r.parentId !== undefined) c.parentId = r.parentId;
  if (r.runningAt !== undefined) c.runningAt = r.runningAt;
  if (r.endedAt !== undefined) c.endedAt = r.endedAt;
  if (r.code !== undefined) c.code = r.code;
  return c;
}

/**
 * Calls and their parent → child links, built from call events with only
 * valid transitions (see {@link CALL_TRANSITIONS}).
 *
 * @example
 * ```ts
 * import { CallGraph } from "@alknet/flowgraph";
 * const g = new CallGraph();
 * g.apply({ type: "requested", id: "p", operation: "orders/place", at: 0 });
 * g.apply({ type: "running", id: "p", operation: "orders/place", at: 1 });
 * g.apply({ type: "requested", id: "c", parentId: "p", operation: "stock/reserve", at: 2 });
 * g.apply({ type: "running", id: "c", operation: "stock/reserve", at: 3 });
 * console.log(g.cascade("p")); // ["c"]: what aborting p cancels
 * g.apply({ type: "completed", id: "c", operation: "stock/reserve", at: 9 });
 * console.log(g.lineage("c").map((r) => r.id), g.get("c")?.status); // ["p", "c"] "completed"
 * try {
 *   g.apply({ type: "running", id: "c", operation: "stock/reserve", at: 10 });
 * } catch (e) {
 *   console.log((e as { code: string }).code); // "INVALID_TRANSITION"
 * }
 * ```
 */
export class CallGraph {
  readonly #calls = new Map<string, Call>();
  readonly #children = new Map<string, Set<string>>();

  /** The number of calls. */
  get size(): number {
    return this.#calls.size;
  }

  /**
   * Applies one event and returns the call's record. Refused with
   * `DUPLICATE_CALL` (a second `requested`), `UNKNOWN_CALL` (any other event
   * for an id never requested), `INVALID_TRANSITION` (not in the table) or
   * `INVALID_EVENT` (a call that is its own parent). A refused event changes
   * nothing.
   */
  apply(event: CallEventLike): CallRecord {
    const id = event.id;
    if (event.type === "requested") {
      if (this.#calls.has(id)) {
        throw new FlowgraphError("DUPLICATE_CALL", `call ${id} was already requested`, { key: id });
      }
      const parentId = event.parentId;
      if (parentId === id) {
        throw new FlowgraphError("INVALID_EVENT", `call ${id} names itself as parent`, { key: id });
      }
      const call = new Call(id, event.operation, parentId, event.at);
      this.#calls.set(id, call);
      if (parentId !== undefined && this.#calls.has(parentId)) this.#link(parentId, id);
      return call;
    }
    const call = this.#calls.get(id);
    if (call === undefined) {
      throw new FlowgraphError("UNKNOWN_CALL", `${event.type} for unknown call ${id}`, { key: id });
    }
    const to: CallStatus = event.type;
    if (!canTransition(call.status, to)) {
      throw new FlowgraphError(
        "INVALID_TRANSITION",
        `call ${id} (${call.operation}) cannot go from ${call.status} to ${to}`,
        { key: id },
      );
    }
    call.status = to;
    if (to === "running") call.runningAt = event.at;
    else call.endedAt = event.at;
    if (event.code !== undefined && to === "failed") call.code = event.code;
    return call;
  }

  /**
   * Applies a wire envelope through {@link eventsFromEnvelope}; returns the
   * call's record, or undefined when the envelope means nothing new (an
   * abort of an unknown or finished call, a further subscription item).
   */
  applyEnvelope(envelope: CallEnvelopeLike, options: EnvelopeOptions = {}): CallRecord | undefined {
    let last: CallRecord | undefined;
    for (const e of eventsFromEnvelope(envelope, this.#calls.get(envelope.id), options)) {
      last = this.apply(e);
    }
    return last;
  }

  /** The call's record, or undefined. */
  get(id: string): CallRecord | undefined {
    return this.#calls.get(id);
  }

  /** True when the call is in the graph. */
  has(id: string): boolean {
    return this.#calls.has(id);
  }

  /** The earliest-requested call still in the graph, or undefined when empty. */
  oldest(): CallRecord | undefined {
    return this.#calls.values().next().value;
  }

  /** Every call, in request order. */
  calls(): CallRecord[] {
    return [...this.#calls.values()];
  }

  /** Calls whose parent is not in the graph (top-level calls, or orphans of a dropped parent). */
  roots(): CallRecord[] {
    const out: CallRecord[] = [];
    for (const c of this.#calls.values()) {
      if (c.parentId === undefined || !this.#calls.has(c.parentId)) out.push(c);
    }
    return out;
  }

  /** The call's parent, when it is in the graph. */
  parent(id: string): CallRecord | undefined {
    const p = this.#need(id).parentId;
    return p === undefined ? undefined : this.#calls.get(p);
  }

  /** The call's direct children, in request order. */
  children(id: string): CallRecord[] {
    this.#need(id);
    const kids = this.#children.get(id);
    return kids === undefined ? [] : [...kids].map((k) => this.#calls.get(k) as Call);
  }

  /** The chain from the outermost known ancestor down to the call itself. */
  lineage(id: string): CallRecord[] {
    const chain: CallRecord[] = [this.#need(id)];
    const seen = new Set<string>([id]);
    for (let p = chain[0].parentId; p !== undefined && !seen.has(p);) {
      const parent = this.#calls.get(p);
      if (parent === undefined) break;
      seen.add(p);
      chain.push(parent);
      p = parent.parentId;
    }
    return chain.reverse();
  }

  /** Every call below this one (children, their children...), breadth first. */
  descendants(id: string): CallRecord[] {
    this.#need(id);
    const out: Call[] = [];
    const seen = new Set<string>([id]);
    const queue = [id];
    for (let i = 0; i < queue.length; i++) {
      const kids = this.#children.get(queue[i]);
      if (kids === undefined) continue;
      for (const k of kids) {
        if (seen.has(k)) continue;
        seen.add(k);
        queue.push(k);
        out.push(this.#calls.get(k) as Call);
      }
    }
    return out;
  }

  /**
   * The ids an abort of this call cancels under the default
   * `abort-dependents` policy: every descendant still pending or running,
   * breadth first.
   */
  cascade(id: string): string[] {
    return this.descendants(id).filter((c) => !isTerminal(c.status)).map((c) => c.id);
  }

  /** {@link callDuration} of the call. */
  duration(id: string, now: number = Date.now()): number {
    return callDuration(this.#need(id), now);
  }

  /** Removes a call (its children stay, as roots); false when absent. */
  delete(id: string): boolean {
    const call = this.#calls.get(id);
    if (call === undefined) return false;
    this.#calls.delete(id);
    this.#children.delete(id);
    if (call.parentId !== undefined) this.#children.get(call.parentId)?.delete(id);
    return true;
  }

  /** Removes every call. */
  clear(): void {
    this.#calls.clear();
    this.#children.clear();
  }

  /** A {@link FlowGraph} of copies of the records, with an edge parent → child. */
  toFlowGraph(): FlowGraph<CallRecord, Record<string, never>> {
    const g = new FlowGraph<CallRecord, Record<string, never>>({ acyclic: true });
    for (const c of this.#calls.values()) g.addNode(c.id, cleanCopy(c));
    for (const [parent, kids] of this.#children) {
      for (const k of kids) g.addEdge(parent, k, {});
    }
    return g;
  }

  /** A snapshot: copies of every record, in request order. */
  toJSON(at: number = Date.now()): CallGraphSnapshot {
    const calls: CallRecord[] = [];
    for (const c of this.#calls.values()) calls.push(cleanCopy(c));
    return { at, calls };
  }

  /**
   * Rebuilds a call graph from a snapshot (parsed JSON): `INVALID_JSON`
   * when it is malformed or lists an id twice.
   */
  static fromJSON(value: unknown): CallGraph {
    const g = new CallGraph();
    for (const r of checkSnapshot(value).calls) g.#insert(r);
    for (const c of g.#calls.values()) {
      if (c.parentId !== undefined && c.parentId !== c.id && g.#calls.has(c.parentId)) {
        g.#link(c.parentId, c.id);
      }
    }
    return g;
  }

  /**
   * A graph of copies of these records, in the order given (a record whose
   * id came before replaces the earlier one), linked parent → child where
   * both are present.
   *
   * @example
   * ```ts
   * import { CallGraph } from "@alknet/flowgraph";
   * const g = CallGraph.fromRecords([
   *   { id: "p", operation: "a/b", status: "running", requestedAt: 1, runningAt: 2 },
   *   { id: "c", operation: "c/d", parentId: "p", status: "pending", requestedAt: 3 },
   * ]);
   * console.log(g.children("p").map((c) => c.id), g.cascade("p")); // ["c"] ["c"]
   * ```
   */
  static fromRecords(records: Iterable<CallRecord>): CallGraph {
    const g = new CallGraph();
    for (const r of records) {
      g.#calls.delete(r.id);
      g.#insert(r);
    }
    for (const c of g.#calls.values()) {
      if (c.parentId !== undefined && c.parentId !== c.id && g.#calls.has(c.parentId)) {
        g.#link(c.parentId, c.id);
      }
    }
    return g;
  }

  /** Adds a record as it is (for snapshots), without links. */
  #insert(r: CallRecord): void {
    if (this.#calls.has(r.id)) {
      throw new FlowgraphError("INVALID_JSON", `call ${r.id} is listed twice`, { key: r.id });
    }
    const c = new Call(r.id, r.operation, r.parentId, r.requestedAt);
    c.status = r.status;
    c.runningAt = r.runningAt;
    c.endedAt = r.endedAt;
    c.code = r.code;
    this.#calls.set(r.id, c);
  }

  #link(parent: string, child: string): void {
    let kids = this.#children.get(parent);
    if (kids === undefined) this.#children.set(parent, kids = new Set());
    kids.add(child);
  }

  #need(id: string): Call {
    const c = this.#calls.get(id);
    if (c === undefined) {
      throw new FlowgraphError("UNKNOWN_CALL", `no call ${id}`, { key: id });
    }
    return c;
  }
}

const STATUSES: readonly string[] = ["pending", "running", "completed", "failed", "aborted"];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Checks the shape of a call-graph snapshot (parsed JSON); `INVALID_JSON`
 * naming the first problem. Unknown fields are dropped.
 *
 * @example
 * ```ts
 * import { checkSnapshot } from "@alknet/flowgraph";
 * const s = checkSnapshot({ at: 5, calls: [{ id: "c", operation: "a/b", status: "running", requestedAt: 1, runningAt: 2 }] });
 * console.log(s.calls[0].status); // "running"
 * ```
 */
export function checkSnapshot(value: unknown): CallGraphSnapshot {
  const fail = (what: string): never => {
    throw new FlowgraphError("INVALID_JSON", `call graph snapshot: ${what}`);
  };
  if (!isRecord(value)) return fail("not an object");
  if (typeof value.at !== "number") fail("at is not a number");
  if (!Array.isArray(value.calls)) return fail("calls is not an array");
  const time = (v: unknown, what: string): number | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isFinite(v)) return fail(`${what} is not a number`);
    return v;
  };
  const calls = value.calls.map((c, i): CallRecord => {
    const where = `calls[${i}]`;
    if (!isRecord(c)) return fail(`${where} is not an object`);
    if (typeof c.id !== "string" || c.id === "") return fail(`${where}.id is not a string`);
    if (typeof c.operation !== "string") return fail(`${where}.operation is not a string`);
    if (typeof c.status !== "string" || !STATUSES.includes(c.status)) {
      return fail(`${where}.status is not a call status`);
    }
    if (c.parentId !== undefined && typeof c.parentId !== "string") {
      return fail(`${where}.parentId is not a string`);
    }
    if (c.code !== undefined && typeof c.code !== "string") {
      return fail(`${where}.code is not a string`);
    }
    const r = {
      id: c.id,
      operation: c.operation,
      status: c.status as CallStatus,
      requestedAt: time(c.requestedAt, `${where}.requestedAt`) ??
        fail(`${where}.requestedAt missing`),
      parentId: c.parentId as string | undefined,
      runningAt: time(c.runningAt, `${where}.runningAt`),
      endedAt: time(c.endedAt, `${where}.endedAt`),
      code: c.code as string | undefined,
    };
    return cleanCopy(r);
  });
  return { at: value.at as number, calls };
}
