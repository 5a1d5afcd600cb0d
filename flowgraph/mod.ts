/**
 * `@alknet/flowgraph`: what a node offers and what it is doing, as graphs
 * and pictures.
 *
 * - {@link FlowGraph}: a directed graph on `npm:graphology` with typed
 *   attributes, no parallel edges or self-loops, optional acyclicity (a
 *   cycle-closing edge is refused with the cycle named), topological order,
 *   cycles, reachability and a JSON form.
 * - The operation graph ({@link buildOperationGraph}): an edge A → B when
 *   A's output schema satisfies B's input schema, incompatible edges with
 *   the reason.
 * - The call graph ({@link CallGraph}, {@link CallRecorder}): calls from
 *   call-protocol events, parent → child, with statuses, durations and the
 *   abort cascade; bounded, with listeners and snapshots.
 * - Pictures: {@link toDot}, {@link toMermaid} and {@link renderSvg}
 *   (WebAssembly Graphviz, loaded on first use).
 * - On a node ({@link flowOperations}): `flow/operations`, `flow/calls` and
 *   `flow/calls-snapshot` as operation definitions an `@alknet/call`
 *   registry takes; {@link operationGraphFromJSON} reads the first back.
 *
 * @example
 * ```ts
 * import {
 *   buildOperationGraph,
 *   CallRecorder,
 *   callDrawing,
 *   operationDrawing,
 *   renderSvg,
 *   toMermaid,
 * } from "@alknet/flowgraph";
 *
 * // What a node offers: specs as services/schema returns them.
 * const id = { type: "object", properties: { id: { type: "string" } }, required: ["id"] };
 * const ops = buildOperationGraph([
 *   { name: "users/create", type: "mutation", output_schema: id },
 *   { name: "users/get", type: "query", input_schema: id },
 * ]);
 * console.log(ops.hasEdge("users/create", "users/get")); // true
 * const svg = await renderSvg(operationDrawing(ops));
 * console.log(svg.includes("users/get")); // true
 *
 * // What it is doing: hand `recorder.observer` to an @alknet/call
 * // OperationRegistry (`new OperationRegistry({ observer: recorder.observer })`).
 * const recorder = new CallRecorder({ maxCalls: 10_000, maxAgeMs: 10 * 60_000 });
 * recorder.observer({ type: "requested", id: "p", operation: "users/create", at: 0 });
 * recorder.observer({ type: "running", id: "p", operation: "users/create", at: 1 });
 * recorder.observer({ type: "requested", id: "c", parentId: "p", operation: "users/get", at: 2 });
 * console.log(recorder.graph.cascade("p")); // ["c"]
 * console.log(toMermaid(callDrawing(recorder.graph)).split("\n")[3]); // "flowchart LR"
 * ```
 *
 * @example A node that records its calls and serves flow/operations, flow/calls
 * ```ts
 * import { CallRecorder, flowOperations } from "@alknet/flowgraph";
 * import { type CallContext, OperationRegistry } from "@alknet/call";
 * import { generateEd25519Key, serve } from "@alknet/core";
 *
 * const recorder = new CallRecorder({ maxCalls: 10_000, maxAgeMs: 10 * 60_000 });
 * const calls = new OperationRegistry({ observer: recorder.observer });
 * const listed = (_ctx: CallContext) => calls.list().map((e) => e.spec).filter((s) => s.visibility === "external");
 * for (const op of flowOperations(recorder, listed)) calls.register(op);
 * const node = await serve({
 *   listen: "127.0.0.1:0", hostKey: generateEd25519Key().privateText, authorizedKeys: [], calls, logger: false,
 * });
 * await calls.invoke("node/ping", { x: 1 });
 * console.log(recorder.snapshot().calls.map((c) => `${c.operation} ${c.status}`)); // ["node/ping completed"]
 * await node.shutdown(0);
 * ```
 *
 * @module
 */

export { FlowgraphError, type FlowgraphErrorCode, type FlowgraphErrorDetails } from "./errors.ts";
export { type EdgeEntry, FlowGraph, type FlowGraphOptions, type FromJSONOptions } from "./graph.ts";
export type { FlowGraphJSON } from "./json.ts";
export type { Adjacency } from "./adjacency.ts";
export { type JsonSchemaLike, matchSchemas, type SchemaMatch } from "./schema_match.ts";
export {
  buildOperationGraph,
  checkOperationSpec,
  type Invoke,
  loadOperationSpecs,
  type OperationEdge,
  type OperationGraph,
  type OperationGraphJSON,
  type OperationGraphOptions,
  operationKey,
  type OperationNode,
  type OperationSpecLike,
} from "./operations.ts";
export { CALL_TRANSITIONS, type CallStatus, canTransition, isTerminal } from "./call_status.ts";
export {
  type CallEnvelopeLike,
  type CallEventLike,
  type CallEventType,
  checkCallEvent,
  type EnvelopeOptions,
  eventsFromEnvelope,
} from "./call_events.ts";
export {
  callDuration,
  CallGraph,
  type CallGraphSnapshot,
  type CallRecord,
  checkSnapshot,
} from "./call_graph.ts";
export {
  type CallListener,
  CallRecorder,
  type CallRecorderOptions,
  type RecorderStats,
} from "./recorder.ts";
export type { FlowCallsItem, WatchOptions } from "./watch.ts";
export { checkFlowCallsItem, followCalls } from "./follow.ts";
export {
  callDrawing,
  type CallDrawingOptions,
  type Drawing,
  type DrawingEdge,
  type DrawingNode,
  formatDuration,
  operationDrawing,
  type OperationDrawingOptions,
  STATUS_COLORS,
} from "./drawing.ts";
export { toDot } from "./dot.ts";
export { toMermaid } from "./mermaid.ts";
export { renderSvg, type SvgOptions } from "./svg.ts";
export {
  type FlowContext,
  type FlowOperation,
  flowOperations,
  type FlowOperationsOptions,
  operationGraphFromJSON,
  type SpecLister,
} from "./node_ops.ts";
export {
  CALL_EVENT_SCHEMA,
  CALL_GRAPH_SNAPSHOT_SCHEMA,
  CALL_RECORD_SCHEMA,
  FLOW_CALLS_INPUT_SCHEMA,
  FLOW_CALLS_ITEM_SCHEMA,
  OPERATION_GRAPH_SCHEMA,
} from "./schemas.ts";
