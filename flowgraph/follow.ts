/**
 * The client side of `flow/calls`: check the items a node streams and keep a
 * live call graph from them.
 *
 * @module
 */

import { type CallEventLike, checkCallEvent } from "./call_events.ts";
import { CallGraph, type CallGraphSnapshot, type CallRecord, checkSnapshot } from "./call_graph.ts";
import { isTerminal } from "./call_status.ts";
import { FlowgraphError } from "./errors.ts";
import type { CallRecorderOptions } from "./recorder.ts";
import type { FlowCallsItem } from "./watch.ts";

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
 * The follower's graph: updated in place per event (a reader looks after
 * every item), with the bounds of a {@link CallRecorderOptions}.
 */
class Followed {
  graph = new CallGraph();
  #finished: string[] = [];
  #head = 0;
  readonly #maxCalls: number;
  readonly #maxAgeMs: number;

  constructor(options: CallRecorderOptions) {
    const bound = (name: string, v: number, zero: boolean) => {
      if (Number.isNaN(v) || v < 0 || (!zero && v === 0)) {
        throw new FlowgraphError("INVALID_OPTION", `${name} must be a positive number`);
      }
      return v;
    };
    this.#maxCalls = bound("maxCalls", options.maxCalls ?? 10_000, false);
    this.#maxAgeMs = bound("maxAgeMs", options.maxAgeMs ?? 600_000, true);
  }

  load(snapshot: CallGraphSnapshot): void {
    this.graph = CallGraph.fromJSON(snapshot);
    this.#finished = this.graph.calls().filter((c) => isTerminal(c.status))
      .sort((a, b) => (a.endedAt ?? 0) - (b.endedAt ?? 0)).map((c) => c.id);
    this.#head = 0;
    this.#evict(snapshot.at);
  }

  apply(event: CallEventLike): void {
    let call: CallRecord;
    try {
      call = this.graph.apply(event);
    } catch {
      return; // refused: the graph is unchanged
    }
    if (isTerminal(call.status)) this.#finished.push(call.id);
    this.#evict(event.at);
  }

  #evict(now: number): void {
    const g = this.graph;
    const finished = this.#finished;
    const limit = now - this.#maxAgeMs;
    while (this.#head < finished.length) {
      const c = g.get(finished[this.#head]);
      if (c !== undefined && (c.endedAt as number) >= limit) break;
      if (c !== undefined) g.delete(c.id);
      this.#head++;
    }
    while (g.size > this.#maxCalls && this.#head < finished.length) {
      g.delete(finished[this.#head++]);
    }
    while (g.size > this.#maxCalls) g.delete((g.oldest() as CallRecord).id);
    if (this.#head > 4096 && this.#head * 2 > finished.length) {
      this.#finished = finished.slice(this.#head);
      this.#head = 0;
    }
  }
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
  const followed = new Followed(options);
  for await (const raw of items) {
    const item = checkFlowCallsItem(raw);
    if (item.kind === "snapshot") followed.load(item.snapshot);
    else followed.apply(item.event);
    yield followed.graph;
  }
}
