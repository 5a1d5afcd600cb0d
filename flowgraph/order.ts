/**
 * A topological order kept up to date while edges are added (the dynamic
 * algorithm of Pearce and Kelly, 2006): an edge that agrees with the current
 * order costs nothing; one that disagrees is checked and repaired by
 * searching only the nodes between its two ends in the order. This is what
 * lets an acyclic {@link FlowGraph} refuse a cycle-closing edge without a
 * full search per edge.
 *
 * @module
 */

import type { Adjacency } from "./adjacency.ts";

/**
 * Positions of nodes in a topological order, repaired edge by edge.
 *
 * @example
 * ```ts
 * import { FlowGraph } from "@alknet/flowgraph";
 * import { DynamicOrder } from "@alknet/flowgraph/order";
 * const g = new FlowGraph(); // the adjacency the order is checked against
 * const order = new DynamicOrder();
 * for (const k of ["a", "b"]) {
 *   g.addNode(k, {});
 *   order.add(k);
 * }
 * console.log(order.insertEdge(g, "b", "a")); // null: the order is now b, a
 * g.addEdge("b", "a", {});
 * console.log(order.sorted()); // ["b", "a"]
 * console.log(order.insertEdge(g, "a", "b")); // ["a", "b", "a"]: would close a cycle
 * ```
 */
export class DynamicOrder {
  #position = new Map<string, number>();
  #next = 0;

  /** Puts a new node (with no edges yet) at the end of the order. */
  add(node: string): void {
    this.#position.set(node, this.#next++);
  }

  /** Forgets a node; removing nodes or edges never invalidates the order. */
  delete(node: string): void {
    this.#position.delete(node);
  }

  /** The node's position (larger comes later), or undefined when unknown. */
  position(node: string): number | undefined {
    return this.#position.get(node);
  }

  /** Every node, in the current topological order. */
  sorted(): string[] {
    return [...this.#position.entries()].sort((a, b) => a[1] - b[1]).map((e) => e[0]);
  }

  /**
   * Prepares the order for an edge `source → target` that `graph` does not
   * have yet. Returns null when the edge keeps the graph acyclic (and the
   * order has been repaired to allow it), or the cycle it would close:
   * `[source, target, ..., source]`. Both nodes must have been added.
   */
  insertEdge(graph: Adjacency, source: string, target: string): string[] | null {
    if (source === target) return [source, source];
    const pos = this.#position;
    const upper = pos.get(source) as number;
    const lower = pos.get(target) as number;
    if (upper < lower) return null;

    // Forward: what the target reaches among nodes placed before the source.
    // Reaching the source itself means the edge closes a cycle.
    const parent = new Map<string, string>([[target, target]]);
    const forward: string[] = [target];
    let closing: string | undefined;
    for (let i = 0; i < forward.length && closing === undefined; i++) {
      const current = forward[i];
      graph.forEachOutNeighbor(current, (n) => {
        if (closing !== undefined || parent.has(n)) return;
        if (n === source) {
          closing = current;
          return;
        }
        if ((pos.get(n) as number) < upper) {
          parent.set(n, current);
          forward.push(n);
        }
      });
    }
    if (closing !== undefined) {
      const back: string[] = [];
      for (let n = closing; n !== target; n = parent.get(n) as string) back.push(n);
      return [source, target, ...back.reverse(), source];
    }

    // Backward: what reaches the source among nodes placed after the target.
    const seen = new Set<string>([source]);
    const backward: string[] = [source];
    for (let i = 0; i < backward.length; i++) {
      graph.forEachInNeighbor(backward[i], (n) => {
        if (!seen.has(n) && (pos.get(n) as number) > lower) {
          seen.add(n);
          backward.push(n);
        }
      });
    }

    // Reuse the same positions: the backward set first, then the forward set,
    // each keeping its internal order.
    const byPosition = (a: string, b: string) => (pos.get(a) as number) - (pos.get(b) as number);
    backward.sort(byPosition);
    forward.sort(byPosition);
    const slots = [...backward, ...forward].map((n) => pos.get(n) as number).sort((a, b) => a - b);
    let s = 0;
    for (const n of backward) pos.set(n, slots[s++]);
    for (const n of forward) pos.set(n, slots[s++]);
    return null;
  }
}
