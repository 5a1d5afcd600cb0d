/**
 * The client side of `flow/calls`: check the items a node streams and keep a
 * live call graph from them.
 *
 * @module
 */

import { checkCallEvent } from "./call_events.ts";
import { type CallGraph, checkSnapshot } from "./call_graph.ts";
import { FlowgraphError } from "./errors.ts";
import { CallRecorder, type CallRecorderOptions, type FlowCallsItem } from "./recorder.ts";

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Checks one `flow/calls` item (parsed JSON); `INVALID_EVENT` or
 * `INVALID_JSON` naming the problem.
 *
 * @example
 * ```ts
 * import { checkFlowCallsItem } from "@alknet/flowgraph";
 * const item = checkFlowCallsItem({ kind: "event", event: { type: "requested", id: "c", operation: "a/b", at: 1 } });
 * console.log(item.kind); // "event"
 * ```
 */
export function checkFlowCallsItem(value: unknown): FlowCallsItem {
  if (isRecord(value) && value.kind === "snapshot") {
    return { kind: "snapshot", snapshot: checkSnapshot(value.snapshot) };
  }
  if (isRecord(value) && value.kind === "event") {
    return { kind: "event", event: checkCallEvent(value.event) };
  }
  throw new FlowgraphError("INVALID_EVENT", "flow/calls item is neither a snapshot nor an event");
}

/**
 * Follows a node's `flow/calls` stream: after each item, yields the call
 * graph as it stands (updated in place between snapshots; a new object after
 * each snapshot; bounded like a {@link CallRecorder} with `options`). A snapshot item replaces what is
 * held; events the graph refuses are skipped. Malformed items throw.
 *
 * @example
 * ```ts
 * import { CallRecorder, followCalls } from "@alknet/flowgraph";
 * const node = new CallRecorder();
 * node.observer({ type: "requested", id: "c1", operation: "node/ping", at: 0 });
 * const stream = node.watch();
 * node.observer({ type: "running", id: "c1", operation: "node/ping", at: 1 });
 * node.observer({ type: "completed", id: "c1", operation: "node/ping", at: 2 });
 * let n = 0;
 * for await (const graph of followCalls(stream)) {
 *   if (++n === 3) {
 *     console.log(graph.get("c1")?.status); // "completed"
 *     break;
 *   }
 * }
 * ```
 */
export async function* followCalls(
  items: AsyncIterable<unknown>,
  options: CallRecorderOptions = {},
): AsyncGenerator<CallGraph, void, undefined> {
  const recorder = new CallRecorder(options);
  for await (const raw of items) {
    const item = checkFlowCallsItem(raw);
    if (item.kind === "snapshot") recorder.load(item.snapshot);
    else recorder.record(item.event);
    yield recorder.graph;
  }
}
