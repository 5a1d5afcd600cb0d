/**
 * Breadth-first reachability from many sources at once, and shortest paths.
 *
 * @module
 */

import type { Adjacency } from "./adjacency.ts";

/**
 * Which edges a traversal follows: `out` (towards descendants) or `in`
 * (towards ancestors).
 *
 * @example
 * ```ts
 * import type { Direction } from "@alknet/flowgraph/traversal";
 * const d: Direction = "in";
 * ```
 */
export type Direction = "out" | "in";

/**
 * Every node reachable from any of `sources` (the sources included), in one
 * breadth-first pass that visits each node once. Unknown sources are the
 * caller's problem: {@link FlowGraph.reachable} checks them first.
 *
 * @example
 * ```ts
 * import { FlowGraph } from "@alknet/flowgraph";
 * import { reachableFrom } from "@alknet/flowgraph/traversal";
 * const g = new FlowGraph();
 * for (const k of ["a", "b", "c", "d"]) g.addNode(k, {});
 * g.addEdge("a", "b", {});
 * g.addEdge("c", "d", {});
 * console.log([...reachableFrom(g, ["a", "c"])]); // ["a", "c", "b", "d"]
 * console.log([...reachableFrom(g, ["d"], "in")]); // ["d", "c"]
 * ```
 */
export function reachableFrom(
  graph: Adjacency,
  sources: Iterable<string>,
  direction: Direction = "out",
): Set<string> {
  const seen = new Set<string>();
  const queue: string[] = [];
  for (const s of sources) {
    if (!seen.has(s)) {
      seen.add(s);
      queue.push(s);
    }
  }
  const visit = (n: string) => {
    if (!seen.has(n)) {
      seen.add(n);
      queue.push(n);
    }
  };
  if (direction === "out") {
    for (let i = 0; i < queue.length; i++) graph.forEachOutNeighbor(queue[i], visit);
  } else {
    for (let i = 0; i < queue.length; i++) graph.forEachInNeighbor(queue[i], visit);
  }
  return seen;
}

/**
 * A shortest directed path from `from` to `to` (both included), or null when
 * there is none. A node reaches itself by the path `[from]`.
 *
 * @example
 * ```ts
 * import { FlowGraph } from "@alknet/flowgraph";
 * import { shortestPath } from "@alknet/flowgraph/traversal";
 * const g = new FlowGraph();
 * for (const k of ["a", "b", "c"]) g.addNode(k, {});
 * g.addEdge("a", "b", {});
 * g.addEdge("b", "c", {});
 * console.log(shortestPath(g, "a", "c")); // ["a", "b", "c"]
 * console.log(shortestPath(g, "c", "a")); // null
 * ```
 */
export function shortestPath(graph: Adjacency, from: string, to: string): string[] | null {
  if (from === to) return [from];
  const parent = new Map<string, string>([[from, from]]);
  const queue: string[] = [from];
  let found = false;
  for (let i = 0; i < queue.length && !found; i++) {
    const current = queue[i];
    graph.forEachOutNeighbor(current, (n) => {
      if (found || parent.has(n)) return;
      parent.set(n, current);
      if (n === to) found = true;
      else queue.push(n);
    });
  }
  if (!found) return null;
  const path = [to];
  for (let n = to; n !== from;) {
    n = parent.get(n) as string;
    path.push(n);
  }
  return path.reverse();
}
