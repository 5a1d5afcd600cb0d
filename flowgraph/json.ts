/**
 * The JSON form of a {@link FlowGraph} and its structural check.
 *
 * @module
 */

import { FlowgraphError } from "./errors.ts";

/**
 * A graph as plain JSON: whether it refuses cycles, its nodes in insertion
 * order, and its edges (at most one per ordered pair of nodes).
 *
 * @example
 * ```ts
 * import type { FlowGraphJSON } from "@alknet/flowgraph";
 * const json: FlowGraphJSON<{ label: string }, { weight: number }> = {
 *   acyclic: true,
 *   nodes: [{ key: "a", attributes: { label: "A" } }, { key: "b", attributes: { label: "B" } }],
 *   edges: [{ source: "a", target: "b", attributes: { weight: 1 } }],
 * };
 * ```
 */
export interface FlowGraphJSON<N, E> {
  /** True when the graph refuses edges that close a cycle. */
  acyclic: boolean;
  /** Nodes in insertion order. */
  nodes: { key: string; attributes: N }[];
  /** Edges in insertion order. */
  edges: { source: string; target: string; attributes: E }[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Checks the shape of a parsed JSON value (not the graph rules: those are
 * checked when the graph is rebuilt). Attributes must be objects; missing
 * attributes become `{}`. Throws `INVALID_JSON` naming the first problem.
 *
 * @example
 * ```ts
 * import { checkFlowGraphJSON } from "@alknet/flowgraph/json";
 * const json = checkFlowGraphJSON(JSON.parse('{"acyclic":false,"nodes":[{"key":"a"}],"edges":[]}'));
 * console.log(json.nodes[0]); // { key: "a", attributes: {} }
 * ```
 */
export function checkFlowGraphJSON(value: unknown): FlowGraphJSON<object, object> {
  const fail = (what: string): never => {
    throw new FlowgraphError("INVALID_JSON", `graph JSON: ${what}`);
  };
  if (!isRecord(value)) return fail("not an object");
  const { acyclic, nodes, edges } = value;
  if (acyclic !== undefined && typeof acyclic !== "boolean") fail("acyclic is not a boolean");
  if (!Array.isArray(nodes)) return fail("nodes is not an array");
  if (!Array.isArray(edges)) return fail("edges is not an array");
  const attributes = (v: unknown, where: string): object => {
    if (v === undefined) return {};
    if (!isRecord(v)) return fail(`${where} attributes are not an object`);
    return v;
  };
  return {
    acyclic: acyclic === true,
    nodes: nodes.map((n, i) => {
      if (!isRecord(n) || typeof n.key !== "string") return fail(`nodes[${i}] has no string key`);
      return { key: n.key, attributes: attributes(n.attributes, `nodes[${i}]`) };
    }),
    edges: edges.map((e, i) => {
      if (!isRecord(e) || typeof e.source !== "string" || typeof e.target !== "string") {
        return fail(`edges[${i}] needs string source and target`);
      }
      return {
        source: e.source,
        target: e.target,
        attributes: attributes(e.attributes, `edges[${i}]`),
      };
    }),
  };
}
