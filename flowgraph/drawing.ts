/**
 * What a picture shows, independent of the output format: boxes with lines
 * of text and colours, arrows with labels. {@link operationDrawing} and
 * {@link callDrawing} make one; `toDot`, `toMermaid` and `renderSvg` turn it
 * into text.
 *
 * @module
 */

import { callDuration, type CallGraph, type CallRecord } from "./call_graph.ts";
import type { CallStatus } from "./call_status.ts";
import type { OperationGraph, OperationNode } from "./operations.ts";

/**
 * A box: its graph key, lines of text, colours, and the group it belongs to
 * (a call status or an operation type; one style per group).
 *
 * @example
 * ```ts
 * import type { DrawingNode } from "@alknet/flowgraph";
 * const n: DrawingNode = { key: "c1", lines: ["users/get", "completed · 12 ms"], fill: "#c8e6c9", stroke: "#2e7d32", group: "completed" };
 * ```
 */
export interface DrawingNode {
  /** The graph key. */
  key: string;
  /** Lines of text, the first is the title. */
  lines: string[];
  /** Fill colour, `#rrggbb`. */
  fill: string;
  /** Border colour, `#rrggbb`. */
  stroke: string;
  /** Style group: letters, digits, `_` and `-` only. */
  group: string;
  /** Hover text. */
  tooltip?: string;
}

/**
 * An arrow between two boxes.
 *
 * @example
 * ```ts
 * import type { DrawingEdge } from "@alknet/flowgraph";
 * const e: DrawingEdge = { from: "a", to: "b", label: "id", dashed: false };
 * ```
 */
export interface DrawingEdge {
  /** Key of the source box. */
  from: string;
  /** Key of the target box. */
  to: string;
  /** Text on the arrow. */
  label?: string;
  /** Drawn dashed (incompatible operation edges). */
  dashed?: boolean;
  /** Colour, `#rrggbb` (default dark grey). */
  color?: string;
  /** Hover text. */
  tooltip?: string;
}

/**
 * A whole picture.
 *
 * @example
 * ```ts
 * import type { Drawing } from "@alknet/flowgraph";
 * const d: Drawing = { title: "demo", direction: "LR", nodes: [], edges: [] };
 * ```
 */
export interface Drawing {
  /** Shown above the picture. */
  title: string;
  /** Left to right or top to bottom. */
  direction: "LR" | "TB";
  /** Boxes, in order. */
  nodes: DrawingNode[];
  /** Arrows, in order. */
  edges: DrawingEdge[];
}

/**
 * Fill and border colour of each call status: pending grey, running blue,
 * completed green, failed red, aborted orange.
 *
 * @example
 * ```ts
 * import { STATUS_COLORS } from "@alknet/flowgraph";
 * console.log(STATUS_COLORS.failed.fill); // "#ffcdd2"
 * ```
 */
export const STATUS_COLORS: Readonly<Record<CallStatus, { fill: string; stroke: string }>> = Object
  .freeze({
    pending: { fill: "#eeeeee", stroke: "#757575" },
    running: { fill: "#bbdefb", stroke: "#1565c0" },
    completed: { fill: "#c8e6c9", stroke: "#2e7d32" },
    failed: { fill: "#ffcdd2", stroke: "#c62828" },
    aborted: { fill: "#ffe0b2", stroke: "#ef6c00" },
  });

const TYPE_COLORS: Readonly<Record<string, { fill: string; stroke: string }>> = {
  query: { fill: "#e3f2fd", stroke: "#1565c0" },
  mutation: { fill: "#fff8e1", stroke: "#f9a825" },
  subscription: { fill: "#f3e5f5", stroke: "#6a1b9a" },
  operation: { fill: "#ffffff", stroke: "#616161" },
};

const INCOMPATIBLE = "#c62828";

/**
 * A duration for people: `850 ms`, `4.2 s`, `3 min 05 s`.
 *
 * @example
 * ```ts
 * import { formatDuration } from "@alknet/flowgraph";
 * console.log(formatDuration(850), formatDuration(4210), formatDuration(185_000)); // "850 ms" "4.2 s" "3 min 05 s"
 * ```
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * Options of {@link operationDrawing}.
 *
 * @example
 * ```ts
 * import type { OperationDrawingOptions } from "@alknet/flowgraph";
 * const opts: OperationDrawingOptions = { title: "my node", incompatible: false };
 * ```
 */
export interface OperationDrawingOptions {
  /** Default `operations`. */
  title?: string;
  /** Draw incompatible edges (dashed red, with the reason); default true. */
  incompatible?: boolean;
  /** Default `LR`. */
  direction?: "LR" | "TB";
}

/**
 * The operation graph as a drawing: a box per operation (name, type, peer;
 * coloured by type), a solid arrow per compatible edge labelled with the
 * shared fields, a dashed red one per incompatible edge labelled with why.
 *
 * @example
 * ```ts
 * import { buildOperationGraph, operationDrawing, toDot } from "@alknet/flowgraph";
 * const id = { type: "object", properties: { id: { type: "string" } }, required: ["id"] };
 * const g = buildOperationGraph([
 *   { name: "users/create", type: "mutation", output_schema: id },
 *   { name: "users/get", type: "query", input_schema: id },
 * ]);
 * const drawing = operationDrawing(g);
 * console.log(drawing.edges); // [{ from: "users/create", to: "users/get", color: "#424242", label: "id" }]
 * console.log(toDot(drawing).startsWith("digraph")); // true
 * ```
 */
export function operationDrawing(
  graph: OperationGraph,
  options: OperationDrawingOptions = {},
): Drawing {
  const nodes = graph.nodeEntries().map(([key, op]): DrawingNode => {
    const group = op.type ?? "operation";
    const colors = TYPE_COLORS[group];
    const second = [op.type, op.visibility === "internal" ? "internal" : undefined]
      .filter((s) => s !== undefined).join(" · ");
    const lines = [op.name];
    if (second !== "") lines.push(second);
    if (op.peer !== undefined) lines.push(`@ ${op.peer}`);
    const n: DrawingNode = { key, lines, fill: colors.fill, stroke: colors.stroke, group };
    const tip = tooltipOf(op);
    if (tip !== undefined) n.tooltip = tip;
    return n;
  });
  const edges: DrawingEdge[] = [];
  for (const { source, target, attributes: e } of graph.edges()) {
    if (e.compatible) {
      const label = e.fields.length <= 3 ? e.fields.join(", ") : `${e.fields.length} fields`;
      const edge: DrawingEdge = { from: source, to: target, color: "#424242" };
      if (label !== "") edge.label = label;
      edges.push(edge);
    } else if (options.incompatible ?? true) {
      const why = `${e.path === "" || e.path === undefined ? "/" : e.path}: ${e.reason ?? ""}`;
      edges.push({
        from: source,
        to: target,
        label: `✗ ${clip(why, 48)}`,
        dashed: true,
        color: INCOMPATIBLE,
        tooltip: `incompatible: ${why}`,
      });
    }
  }
  return {
    title: options.title ?? "operations",
    direction: options.direction ?? "LR",
    nodes,
    edges,
  };
}

function tooltipOf(op: OperationNode): string | undefined {
  return op.description === undefined ? undefined : `${op.name}: ${op.description}`;
}

/**
 * Options of {@link callDrawing}.
 *
 * @example
 * ```ts
 * import type { CallDrawingOptions } from "@alknet/flowgraph";
 * const opts: CallDrawingOptions = { now: Date.now(), title: "calls" };
 * ```
 */
export interface CallDrawingOptions {
  /** Default `calls`. */
  title?: string;
  /** The time running calls are measured to (default `Date.now()`). */
  now?: number;
  /** Default `LR`. */
  direction?: "LR" | "TB";
  /**
   * Draw at most this many calls (default all): the live ones first (the
   * newest if they alone exceed it), then the newest finished ones; kept in
   * request order.
   */
  maxCalls?: number;
}

/** The calls to draw: all, or the live ones and then the newest finished ones. */
function chosenCalls(graph: CallGraph, max: number | undefined): CallRecord[] {
  const all = graph.calls();
  if (max === undefined || all.length <= max) return all;
  const keep = new Set<CallRecord>();
  for (let i = all.length - 1; i >= 0 && keep.size < max; i--) {
    if (all[i].endedAt === undefined) keep.add(all[i]);
  }
  for (let i = all.length - 1; i >= 0 && keep.size < max; i--) keep.add(all[i]);
  return all.filter((c) => keep.has(c));
}

/**
 * The call graph as a drawing: a box per call (operation, status and
 * duration, error code; coloured by status), an arrow parent → child.
 *
 * @example
 * ```ts
 * import { CallGraph, callDrawing, toMermaid } from "@alknet/flowgraph";
 * const g = new CallGraph();
 * g.apply({ type: "requested", id: "c1", operation: "node/ping", at: 0 });
 * g.apply({ type: "running", id: "c1", operation: "node/ping", at: 1 });
 * g.apply({ type: "completed", id: "c1", operation: "node/ping", at: 12 });
 * console.log(callDrawing(g).nodes[0].lines); // ["node/ping", "completed · 12 ms"]
 * console.log(toMermaid(callDrawing(g)).includes("classDef completed")); // true
 * g.apply({ type: "requested", id: "c2", operation: "node/info", at: 20 });
 * console.log(callDrawing(g, { maxCalls: 1 }).nodes[0].lines[0]); // "node/info" (live first)
 * ```
 */
export function callDrawing(graph: CallGraph, options: CallDrawingOptions = {}): Drawing {
  const now = options.now ?? Date.now();
  const nodes: DrawingNode[] = [];
  const edges: DrawingEdge[] = [];
  const calls = chosenCalls(graph, options.maxCalls);
  const drawn = calls.length === graph.size ? undefined : new Set(calls.map((c) => c.id));
  for (const c of calls) {
    nodes.push(callNode(c, now));
    if (
      c.parentId !== undefined && graph.has(c.parentId) &&
      (drawn === undefined || drawn.has(c.parentId))
    ) {
      edges.push({ from: c.parentId, to: c.id, color: "#424242" });
    }
  }
  return { title: options.title ?? "calls", direction: options.direction ?? "LR", nodes, edges };
}

function callNode(c: CallRecord, now: number): DrawingNode {
  const live = c.endedAt === undefined;
  const lines = [
    c.operation,
    `${c.status} · ${formatDuration(callDuration(c, now))}${live ? "…" : ""}`,
  ];
  if (c.code !== undefined) lines.push(c.code);
  const colors = STATUS_COLORS[c.status];
  return {
    key: c.id,
    lines,
    fill: colors.fill,
    stroke: colors.stroke,
    group: c.status,
    tooltip: `call ${c.id}`,
  };
}
