/**
 * The read-only view of a directed graph that the algorithms of this package
 * walk. A {@link FlowGraph} is one; so is a plain `graphology` directed graph.
 *
 * @module
 */

/**
 * Nodes and out/in neighbours of a directed graph, keyed by strings.
 *
 * @example
 * ```ts
 * import type { Adjacency } from "@alknet/flowgraph/adjacency";
 * const out = new Map([["a", ["b"]], ["b", []]]);
 * const inn = new Map([["a", []], ["b", ["a"]]]);
 * const adj: Adjacency = {
 *   nodes: () => [...out.keys()],
 *   outNeighbors: (n) => out.get(n) ?? [],
 *   inNeighbors: (n) => inn.get(n) ?? [],
 *   forEachOutNeighbor: (n, f) => (out.get(n) ?? []).forEach((m) => f(m)),
 *   forEachInNeighbor: (n, f) => (inn.get(n) ?? []).forEach((m) => f(m)),
 * };
 * console.log(adj.outNeighbors("a")); // ["b"]
 * ```
 */
export interface Adjacency {
  /** Every node key. */
  nodes(): string[];
  /** Targets of the node's outgoing edges. */
  outNeighbors(node: string): string[];
  /** Sources of the node's incoming edges. */
  inNeighbors(node: string): string[];
  /** Calls `callback` with each target of the node's outgoing edges. */
  forEachOutNeighbor(node: string, callback: (neighbor: string) => void): void;
  /** Calls `callback` with each source of the node's incoming edges. */
  forEachInNeighbor(node: string, callback: (neighbor: string) => void): void;
}
