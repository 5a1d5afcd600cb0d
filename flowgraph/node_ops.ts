/**
 * What a node serves from this package, as operation definitions any
 * `@alknet/call` `OperationRegistry` accepts ({@link flowOperations}):
 * `flow/operations`, `flow/calls` and `flow/calls-snapshot`; and the client
 * side of `flow/operations` ({@link operationGraphFromJSON}).
 *
 * Nothing here imports `@alknet/call`: the definitions are plain objects
 * whose shape an `OperationDefinition` has.
 *
 * @module
 */

import type { CallGraphSnapshot } from "./call_graph.ts";
import { FlowgraphError } from "./errors.ts";
import { FlowGraph } from "./graph.ts";
import {
  buildOperationGraph,
  type OperationEdge,
  type OperationGraph,
  type OperationGraphJSON,
  type OperationNode,
  type OperationSpecLike,
} from "./operations.ts";
import type { CallRecorder } from "./recorder.ts";
import type { FlowCallsItem } from "./watch.ts";
import {
  CALL_GRAPH_SNAPSHOT_SCHEMA,
  FLOW_CALLS_INPUT_SCHEMA,
  FLOW_CALLS_ITEM_SCHEMA,
  OPERATION_GRAPH_SCHEMA,
} from "./schemas.ts";

/**
 * The part of a handler's context the flow operations use: the call's
 * abort signal. `@alknet/call`'s `CallContext` fits.
 *
 * @example
 * ```ts
 * import type { FlowContext } from "@alknet/flowgraph";
 * const ctx: FlowContext = { signal: new AbortController().signal };
 * ```
 */
export interface FlowContext {
  /** Aborted when the caller cancels or the connection closes. */
  readonly signal: AbortSignal;
}

/**
 * One operation definition as {@link flowOperations} makes it: the fields of
 * an `@alknet/call` `OperationDefinition` it sets, so `registry.register(op)`
 * takes it as it is.
 *
 * @example
 * ```ts
 * import { CallRecorder, type FlowOperation, flowOperations } from "@alknet/flowgraph";
 * const ops: FlowOperation<{ signal: AbortSignal }>[] = flowOperations(new CallRecorder(), () => []);
 * console.log(ops.map((o) => `${o.name} ${o.type}`));
 * // ["flow/operations query", "flow/calls subscription", "flow/calls-snapshot query"]
 * ```
 */
export interface FlowOperation<C extends FlowContext> {
  /** `flow/operations`, `flow/calls` or `flow/calls-snapshot`. */
  name: string;
  /** `query` or `subscription`. */
  type: "query" | "subscription";
  /** What it answers. */
  description: string;
  /** JSON Schema of the input. */
  input_schema: { readonly [keyword: string]: unknown };
  /** JSON Schema of the output (of each item, for `flow/calls`). */
  output_schema: { readonly [keyword: string]: unknown };
  /** Who may call it: at least one of these scopes (absent: anyone the node lets in). */
  access?: { scopes_any: string[] };
  /** The query handler. */
  handler?: (input: unknown, ctx: C) => Promise<unknown>;
  /** The subscription handler. */
  subscribe?: (input: unknown, ctx: C) => AsyncIterable<FlowCallsItem>;
}

/**
 * Options of {@link flowOperations}.
 *
 * @example
 * ```ts
 * import type { FlowOperationsOptions } from "@alknet/flowgraph";
 * const opts: FlowOperationsOptions = { callsScopes: [], maxBuffered: 1000 };
 * ```
 */
export interface FlowOperationsOptions {
  /**
   * `flow/calls` and `flow/calls-snapshot` need one of these scopes
   * (default `["flow:read", "admin:flow"]`; `*` holds every scope; `[]`
   * lets every caller the node admits watch its calls). `flow/operations`
   * needs none: it shows only what `listSpecs` gives the caller.
   */
  callsScopes?: string[];
  /** Events a `flow/calls` subscriber may fall behind before it gets `OVERFLOW` (default 10 000). */
  maxBuffered?: number;
}

/**
 * Lists the operation specs a caller may see (what `services/list` shows
 * it), for `flow/operations`.
 *
 * @example
 * ```ts
 * import type { SpecLister } from "@alknet/flowgraph";
 * const list: SpecLister<{ signal: AbortSignal }> = () => [{ name: "node/ping", type: "query" }];
 * ```
 */
export type SpecLister<C extends FlowContext> = (
  ctx: C,
) => Iterable<OperationSpecLike> | Promise<Iterable<OperationSpecLike>>;

const DEFAULT_CALLS_SCOPES = ["flow:read", "admin:flow"];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** First spec per key wins (a composite lists a name once per layer). */
function distinct(specs: Iterable<OperationSpecLike>): OperationSpecLike[] {
  const seen = new Set<string>();
  const out: OperationSpecLike[] = [];
  for (const s of specs) {
    const key = s.peer === undefined ? s.name : `${s.name}@${s.peer}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(s);
  }
  return out;
}

/**
 * The operations a node serves to show itself:
 *
 * - `flow/operations` (query, input `{}` or null): the operation graph of
 *   the specs `listSpecs(ctx)` gives (an {@link OperationGraphJSON});
 * - `flow/calls` (subscription, input `{snapshot?: boolean}`): a snapshot of
 *   the recorded calls, then every call event ({@link FlowCallsItem});
 * - `flow/calls-snapshot` (query): the recorded calls now
 *   ({@link CallGraphSnapshot}).
 *
 * With `recorder` null (recording turned off) only `flow/operations` is
 * made. Register each on an `@alknet/call` `OperationRegistry` whose
 * `observer` is `recorder.observer`; `listSpecs` should give what the
 * caller may list, e.g. the external specs whose `access` lets
 * `ctx.identity` in.
 *
 * @example Wiring on a node (three lines)
 * ```ts
 * import { CallRecorder, flowOperations } from "@alknet/flowgraph";
 * import { accessDenial, type CallContext, OperationRegistry } from "@alknet/call";
 *
 * const recorder = new CallRecorder();
 * const calls = new OperationRegistry({ observer: recorder.observer });
 * const visible = (ctx: CallContext) =>
 *   calls.list().map((e) => e.spec)
 *     .filter((s) => s.visibility === "external" && accessDenial(s.access, ctx.identity) === null);
 * for (const op of flowOperations(recorder, visible)) calls.register(op);
 * // then: serve({ calls, ... }) from @alknet/core
 *
 * const graph = await calls.invoke("flow/operations", {}) as { nodes: { key: string }[] };
 * console.log(graph.nodes.some((n) => n.key === "flow/calls")); // false: anonymous callers may not watch calls
 * const snap = await calls.invoke("flow/calls-snapshot", {}, {
 *   identity: { id: "me", scopes: ["flow:read"], resources: {} },
 * }) as { calls: { operation: string }[] };
 * console.log(snap.calls.map((c) => c.operation)); // ["flow/operations", "flow/calls-snapshot"]
 * ```
 */
export function flowOperations<C extends FlowContext>(
  recorder: CallRecorder | null,
  listSpecs: SpecLister<C>,
  options: FlowOperationsOptions = {},
): FlowOperation<C>[] {
  const scopes = options.callsScopes ?? DEFAULT_CALLS_SCOPES;
  const maxBuffered = options.maxBuffered;
  const ops: FlowOperation<C>[] = [{
    name: "flow/operations",
    type: "query",
    description:
      "The operation graph of what you may call here: an edge A → B when A's output fits B's input",
    input_schema: { type: ["object", "null"] },
    output_schema: OPERATION_GRAPH_SCHEMA,
    handler: async (_input, ctx) =>
      buildOperationGraph(distinct(await listSpecs(ctx))).toJSON() as OperationGraphJSON,
  }];
  if (recorder === null) return ops;
  const access = scopes.length > 0 ? { scopes_any: [...scopes] } : undefined;
  const withAccess = (op: FlowOperation<C>): FlowOperation<C> =>
    access === undefined ? op : { ...op, access };
  ops.push(
    withAccess({
      name: "flow/calls",
      type: "subscription",
      description: "The calls this node records: a snapshot, then every call event as it happens",
      input_schema: FLOW_CALLS_INPUT_SCHEMA,
      output_schema: FLOW_CALLS_ITEM_SCHEMA,
      subscribe: (input, ctx) => {
        const snapshot = isRecord(input) && input.snapshot === false ? false : true;
        return recorder.watch({ signal: ctx.signal, snapshot, maxBuffered });
      },
    }),
    withAccess({
      name: "flow/calls-snapshot",
      type: "query",
      description: "The calls this node records now, in request order",
      input_schema: { type: ["object", "null"] },
      output_schema: CALL_GRAPH_SNAPSHOT_SCHEMA,
      handler: async (): Promise<CallGraphSnapshot> => {
        // After the dispatcher has reported this call running: it shows as running, not pending.
        await Promise.resolve();
        return recorder.snapshot();
      },
    }),
  );
  return ops;
}

const TYPES = new Set(["query", "mutation", "subscription"]);

function operationNode(a: object): OperationNode {
  const r = a as Record<string, unknown>;
  if (typeof r.name !== "string" || r.name === "") {
    throw new FlowgraphError("INVALID_JSON", "operation graph JSON: a node without a name");
  }
  const n: OperationNode = { name: r.name };
  if (typeof r.type === "string" && TYPES.has(r.type)) n.type = r.type as OperationNode["type"];
  if (r.visibility === "external" || r.visibility === "internal") n.visibility = r.visibility;
  if (typeof r.description === "string") n.description = r.description;
  if (typeof r.peer === "string") n.peer = r.peer;
  return n;
}

function operationEdge(a: object): OperationEdge {
  const r = a as Record<string, unknown>;
  if (typeof r.compatible !== "boolean") {
    throw new FlowgraphError("INVALID_JSON", "operation graph JSON: an edge without compatible");
  }
  const fields = Array.isArray(r.fields) ? r.fields.filter((f) => typeof f === "string") : [];
  const e: OperationEdge = { compatible: r.compatible, fields };
  if (typeof r.path === "string") e.path = r.path;
  if (typeof r.reason === "string") e.reason = r.reason;
  return e;
}

/**
 * Rebuilds the operation graph a node's `flow/operations` answered (parsed
 * JSON), checking the node and edge attributes; `INVALID_JSON` when
 * malformed.
 *
 * @example
 * ```ts
 * import { buildOperationGraph, operationGraphFromJSON } from "@alknet/flowgraph";
 * const id = { type: "object", properties: { id: { type: "string" } }, required: ["id"] };
 * const sent = buildOperationGraph([
 *   { name: "users/create", type: "mutation", output_schema: id },
 *   { name: "users/get", type: "query", input_schema: id },
 * ]).toJSON();
 * const graph = operationGraphFromJSON(JSON.parse(JSON.stringify(sent)));
 * console.log(graph.hasEdge("users/create", "users/get")); // true
 * ```
 */
export function operationGraphFromJSON(json: unknown): OperationGraph {
  return FlowGraph.fromJSON<OperationNode, OperationEdge>(json, {
    node: operationNode,
    edge: operationEdge,
  });
}
