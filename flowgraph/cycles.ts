/**
 * Cycles: one cycle when there is any, strongly connected components
 * (Tarjan's algorithm) and every elementary cycle (Johnson's algorithm, with a
 * limit). All iterative: deep graphs do not overflow the call stack.
 *
 * Cycles are written as closed walks: `["a", "b", "a"]`.
 *
 * @module
 */

import type { Adjacency } from "./adjacency.ts";

/**
 * A cycle of `graph` as `[a, ..., a]`, or null when the graph is acyclic.
 *
 * @example
 * ```ts
 * import { FlowGraph } from "@alknet/flowgraph";
 * import { findCycle } from "@alknet/flowgraph/cycles";
 * const g = new FlowGraph();
 * for (const k of ["a", "b", "c"]) g.addNode(k, {});
 * g.addEdge("a", "b", {});
 * g.addEdge("b", "c", {});
 * console.log(findCycle(g)); // null
 * g.addEdge("c", "b", {});
 * console.log(findCycle(g)); // ["b", "c", "b"]
 * ```
 */
export function findCycle(graph: Adjacency): string[] | null {
  const done = new Set<string>();
  const onPath = new Map<string, number>(); // node -> index in `frames`
  for (const root of graph.nodes()) {
    if (done.has(root)) continue;
    const frames: { node: string; next: string[]; i: number }[] = [
      { node: root, next: graph.outNeighbors(root), i: 0 },
    ];
    onPath.set(root, 0);
    while (frames.length > 0) {
      const top = frames[frames.length - 1];
      if (top.i < top.next.length) {
        const n = top.next[top.i++];
        const at = onPath.get(n);
        if (at !== undefined) {
          return [...frames.slice(at).map((f) => f.node), n];
        }
        if (!done.has(n)) {
          onPath.set(n, frames.length);
          frames.push({ node: n, next: graph.outNeighbors(n), i: 0 });
        }
      } else {
        frames.pop();
        onPath.delete(top.node);
        done.add(top.node);
      }
    }
  }
  return null;
}

/**
 * The strongly connected components of `graph` (or of the subgraph induced
 * by `within`), each a list of node keys. Components come out in reverse
 * topological order of the condensation: a component is listed before any
 * component that has an edge into it.
 *
 * @example
 * ```ts
 * import { FlowGraph } from "@alknet/flowgraph";
 * import { stronglyConnectedComponents } from "@alknet/flowgraph/cycles";
 * const g = new FlowGraph();
 * for (const k of ["a", "b", "c"]) g.addNode(k, {});
 * g.addEdge("a", "b", {});
 * g.addEdge("b", "a", {});
 * g.addEdge("b", "c", {});
 * console.log(stronglyConnectedComponents(g)); // [["c"], ["b", "a"]]
 * ```
 */
export function stronglyConnectedComponents(
  graph: Adjacency,
  within?: ReadonlySet<string>,
): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let counter = 0;
  const neighbours = (n: string) =>
    within === undefined
      ? graph.outNeighbors(n)
      : graph.outNeighbors(n).filter((m) => within.has(m));
  const roots = within === undefined ? graph.nodes() : [...within];

  for (const root of roots) {
    if (index.has(root)) continue;
    const frames: { node: string; next: string[]; i: number }[] = [];
    const open = (n: string) => {
      index.set(n, counter);
      low.set(n, counter);
      counter++;
      stack.push(n);
      onStack.add(n);
      frames.push({ node: n, next: neighbours(n), i: 0 });
    };
    open(root);
    while (frames.length > 0) {
      const top = frames[frames.length - 1];
      if (top.i < top.next.length) {
        const n = top.next[top.i++];
        if (!index.has(n)) {
          open(n);
        } else if (onStack.has(n)) {
          low.set(top.node, Math.min(low.get(top.node) as number, index.get(n) as number));
        }
        continue;
      }
      frames.pop();
      const v = top.node;
      if (frames.length > 0) {
        const parent = frames[frames.length - 1].node;
        low.set(parent, Math.min(low.get(parent) as number, low.get(v) as number));
      }
      if (low.get(v) === index.get(v)) {
        const component: string[] = [];
        let w: string;
        do {
          w = stack.pop() as string;
          onStack.delete(w);
          component.push(w);
        } while (w !== v);
        components.push(component);
      }
    }
  }
  return components;
}

/**
 * Options of {@link simpleCycles}.
 *
 * @example
 * ```ts
 * import type { SimpleCyclesOptions } from "@alknet/flowgraph/cycles";
 * const opts: SimpleCyclesOptions = { limit: 10 };
 * ```
 */
export interface SimpleCyclesOptions {
  /** Stop after this many cycles (default 1000): a graph can have exponentially many. */
  limit?: number;
}

/**
 * Every elementary cycle of `graph` (no node repeated except the first at
 * the end), up to `limit`. Each cycle starts at its node that comes first in
 * `graph.nodes()`.
 *
 * @example
 * ```ts
 * import { FlowGraph } from "@alknet/flowgraph";
 * import { simpleCycles } from "@alknet/flowgraph/cycles";
 * const g = new FlowGraph();
 * for (const k of ["a", "b", "c"]) g.addNode(k, {});
 * g.addEdge("a", "b", {});
 * g.addEdge("b", "a", {});
 * g.addEdge("b", "c", {});
 * g.addEdge("c", "a", {});
 * console.log(simpleCycles(g)); // [["a", "b", "a"], ["a", "b", "c", "a"]]
 * ```
 */
export function simpleCycles(graph: Adjacency, options: SimpleCyclesOptions = {}): string[][] {
  const limit = options.limit ?? 1000;
  const cycles: string[][] = [];
  if (limit <= 0) return cycles;
  const rank = new Map<string, number>();
  for (const n of graph.nodes()) rank.set(n, rank.size);
  const first = (component: Iterable<string>) => {
    let best: string | undefined;
    for (const n of component) {
      if (best === undefined || (rank.get(n) as number) < (rank.get(best) as number)) best = n;
    }
    return best as string;
  };

  // Work on components with at least two nodes (no self-loops exist here).
  const work: Set<string>[] = stronglyConnectedComponents(graph)
    .filter((c) => c.length > 1)
    .map((c) => new Set(c));
  while (work.length > 0 && cycles.length < limit) {
    const component = work.pop() as Set<string>;
    const start = first(component);
    circuits(graph, start, component, cycles, limit);
    component.delete(start);
    for (const c of stronglyConnectedComponents(graph, component)) {
      if (c.length > 1) work.push(new Set(c));
    }
  }
  // Deterministic output: by start rank, then lexicographically by rank path.
  const key = (c: string[]) => c.map((n) => rank.get(n) as number);
  return cycles.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
      if (ka[i] !== kb[i]) return ka[i] - kb[i];
    }
    return ka.length - kb.length;
  });
}

/** Johnson's CIRCUIT search from `start` inside `component`, appending to `out`. */
function circuits(
  graph: Adjacency,
  start: string,
  component: ReadonlySet<string>,
  out: string[][],
  limit: number,
): void {
  const blocked = new Set<string>([start]);
  const blockedBy = new Map<string, Set<string>>();
  const path: string[] = [start];
  const next = (n: string) => graph.outNeighbors(n).filter((m) => component.has(m));
  const frames: { node: string; next: string[]; i: number; closed: boolean }[] = [
    { node: start, next: next(start), i: 0, closed: false },
  ];
  const unblock = (n: string) => {
    const todo = [n];
    while (todo.length > 0) {
      const x = todo.pop() as string;
      if (!blocked.delete(x)) continue;
      const waiting = blockedBy.get(x);
      if (waiting !== undefined) {
        todo.push(...waiting);
        waiting.clear();
      }
    }
  };
  while (frames.length > 0) {
    const top = frames[frames.length - 1];
    if (top.i < top.next.length) {
      const n = top.next[top.i++];
      if (n === start) {
        out.push([...path, start]);
        top.closed = true;
        if (out.length >= limit) return;
      } else if (!blocked.has(n)) {
        blocked.add(n);
        path.push(n);
        frames.push({ node: n, next: next(n), i: 0, closed: false });
      }
      continue;
    }
    frames.pop();
    path.pop();
    if (top.closed) {
      unblock(top.node);
      if (frames.length > 0) frames[frames.length - 1].closed = true;
    } else {
      for (const m of top.next) {
        let set = blockedBy.get(m);
        if (set === undefined) blockedBy.set(m, set = new Set());
        set.add(top.node);
      }
    }
  }
}
