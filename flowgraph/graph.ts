/**
 * {@link FlowGraph}: a directed graph on `npm:graphology` with string keys,
 * typed node and edge attributes, no parallel edges, no self-loops, and
 * optional acyclicity.
 *
 * @module
 */

import { DirectedGraph } from "graphology";
import { topologicalGenerations, topologicalSort } from "graphology-dag";
import type { Attributes } from "graphology-types";
import type { Adjacency } from "./adjacency.ts";
import { findCycle, simpleCycles, stronglyConnectedComponents } from "./cycles.ts";
import { FlowgraphError } from "./errors.ts";
import { checkFlowGraphJSON, type FlowGraphJSON } from "./json.ts";
import { DynamicOrder } from "./order.ts";
import { reachableFrom, shortestPath } from "./traversal.ts";

/**
 * Options of {@link FlowGraph}.
 *
 * @example
 * ```ts
 * import type { FlowGraphOptions } from "@alknet/flowgraph";
 * const opts: FlowGraphOptions = { acyclic: true };
 * ```
 */
export interface FlowGraphOptions {
  /** Refuse every edge that would close a cycle (`CYCLE`, naming it). Default false. */
  acyclic?: boolean;
}

/**
 * One edge with its attributes.
 *
 * @example
 * ```ts
 * import type { EdgeEntry } from "@alknet/flowgraph";
 * const e: EdgeEntry<{ weight: number }> = { source: "a", target: "b", attributes: { weight: 2 } };
 * ```
 */
export interface EdgeEntry<E> {
  /** Where the edge starts. */
  source: string;
  /** Where it ends. */
  target: string;
  /** Its attributes. */
  attributes: E;
}

/**
 * Options of {@link FlowGraph.fromJSON}: converters that check (or
 * transform) each attribute object. Without them attributes are taken as
 * they are.
 *
 * @example
 * ```ts
 * import type { FromJSONOptions } from "@alknet/flowgraph";
 * const opts: FromJSONOptions<{ label: string }, Record<string, never>> = {
 *   node: (a) => ({ label: String((a as { label?: unknown }).label ?? "") }),
 * };
 * ```
 */
export interface FromJSONOptions<N, E> {
  /** Turns a node's attribute object into `N` (throw to refuse it). */
  node?: (attributes: object) => N;
  /** Turns an edge's attribute object into `E` (throw to refuse it). */
  edge?: (attributes: object) => E;
}

/**
 * A directed graph with string keys and typed attributes. At most one edge
 * per ordered pair of nodes; no self-loops. With `acyclic: true` it stays a
 * DAG: an edge that would close a cycle is refused with the cycle named.
 * Attribute objects are stored by reference.
 *
 * @example
 * ```ts
 * import { FlowGraph } from "@alknet/flowgraph";
 * const g = new FlowGraph<{ label: string }, { weight: number }>({ acyclic: true });
 * g.addNode("fetch", { label: "Fetch" }).addNode("parse", { label: "Parse" });
 * g.addNode("store", { label: "Store" });
 * g.addEdge("fetch", "parse", { weight: 1 }).addEdge("parse", "store", { weight: 2 });
 * console.log(g.topologicalOrder()); // ["fetch", "parse", "store"]
 * console.log([...g.descendants("fetch")]); // ["parse", "store"]
 * console.log(g.getEdge("parse", "store")?.weight); // 2
 * const copy = FlowGraph.fromJSON<{ label: string }, { weight: number }>(
 *   JSON.parse(JSON.stringify(g)),
 * );
 * console.log(copy.edgeCount); // 2
 * ```
 */
export class FlowGraph<
  N extends object = Record<string, unknown>,
  E extends object = Record<string, unknown>,
> implements Adjacency {
  readonly #graph: DirectedGraph<Attributes, Attributes> = new DirectedGraph({
    allowSelfLoops: false,
    multi: false,
  });
  #order: DynamicOrder | undefined;

  /** An empty graph. */
  constructor(options: FlowGraphOptions = {}) {
    if (options.acyclic === true) this.#order = new DynamicOrder();
  }

  /** True when edges closing a cycle are refused. */
  get acyclic(): boolean {
    return this.#order !== undefined;
  }

  /** The number of nodes. */
  get nodeCount(): number {
    return this.#graph.order;
  }

  /** The number of edges. */
  get edgeCount(): number {
    return this.#graph.size;
  }

  // ---- nodes -------------------------------------------------------------

  /** Adds a node; `NODE_EXISTS` when the key is taken. Returns the graph. */
  addNode(key: string, attributes: N): this {
    if (this.#graph.hasNode(key)) {
      throw new FlowgraphError("NODE_EXISTS", `node ${JSON.stringify(key)} already exists`, {
        key,
      });
    }
    this.#graph.addNode(key, attributes as Attributes);
    this.#order?.add(key);
    return this;
  }

  /** Adds a node or replaces the attributes of an existing one. Returns the graph. */
  setNode(key: string, attributes: N): this {
    if (this.#graph.hasNode(key)) this.#graph.replaceNodeAttributes(key, attributes as Attributes);
    else this.addNode(key, attributes);
    return this;
  }

  /** True when the node exists. */
  hasNode(key: string): boolean {
    return this.#graph.hasNode(key);
  }

  /** The node's attributes, or undefined when there is no such node. */
  getNode(key: string): N | undefined {
    return this.#graph.hasNode(key) ? this.#graph.getNodeAttributes(key) as N : undefined;
  }

  /** Removes a node and its edges; `NODE_NOT_FOUND` when absent. */
  removeNode(key: string): void {
    this.#need(key);
    this.#graph.dropNode(key);
    this.#order?.delete(key);
  }

  /** Every node key, in insertion order. */
  nodes(): string[] {
    return this.#graph.nodes();
  }

  /** Every node with its attributes, in insertion order. */
  nodeEntries(): [string, N][] {
    const out: [string, N][] = [];
    this.#graph.forEachNode((k, a) => out.push([k, a as N]));
    return out;
  }

  // ---- edges -------------------------------------------------------------

  /**
   * Adds the edge `source → target`. Refused with `NODE_NOT_FOUND`,
   * `SELF_LOOP`, `EDGE_EXISTS`, or (acyclic graphs) `CYCLE` with the cycle
   * named. Returns the graph.
   */
  addEdge(source: string, target: string, attributes: E): this {
    this.#need(source);
    this.#need(target);
    if (source === target) {
      throw new FlowgraphError("SELF_LOOP", `edge ${JSON.stringify(source)} → itself refused`, {
        key: source,
        cycle: [source, source],
      });
    }
    if (this.#graph.hasDirectedEdge(source, target)) {
      throw new FlowgraphError(
        "EDGE_EXISTS",
        `edge ${JSON.stringify(source)} → ${JSON.stringify(target)} already exists`,
        { key: source },
      );
    }
    if (this.#order !== undefined) {
      const cycle = this.#order.insertEdge(this.#graph, source, target);
      if (cycle !== null) {
        throw new FlowgraphError("CYCLE", `edge would close the cycle ${cycle.join(" → ")}`, {
          cycle,
          key: source,
        });
      }
    }
    this.#graph.addDirectedEdge(source, target, attributes as Attributes);
    return this;
  }

  /** Adds the edge or replaces the attributes of the existing one (same refusals as {@link addEdge}). */
  setEdge(source: string, target: string, attributes: E): this {
    if (this.hasEdge(source, target)) {
      this.#graph.replaceEdgeAttributes(source, target, attributes as Attributes);
      return this;
    }
    return this.addEdge(source, target, attributes);
  }

  /** True when the edge `source → target` exists. */
  hasEdge(source: string, target: string): boolean {
    return this.#graph.hasNode(source) && this.#graph.hasNode(target) &&
      this.#graph.hasDirectedEdge(source, target);
  }

  /** The edge's attributes, or undefined when there is no such edge. */
  getEdge(source: string, target: string): E | undefined {
    return this.hasEdge(source, target)
      ? this.#graph.getDirectedEdgeAttributes(source, target) as E
      : undefined;
  }

  /** Removes the edge; `EDGE_NOT_FOUND` when absent. */
  removeEdge(source: string, target: string): void {
    if (!this.hasEdge(source, target)) {
      throw new FlowgraphError(
        "EDGE_NOT_FOUND",
        `no edge ${JSON.stringify(source)} → ${JSON.stringify(target)}`,
        { key: source },
      );
    }
    this.#graph.dropDirectedEdge(source, target);
  }

  /** Every edge with its attributes, in insertion order. */
  edges(): EdgeEntry<E>[] {
    const out: EdgeEntry<E>[] = [];
    this.#graph.forEachEdge((_k, a, source, target) => {
      out.push({ source, target, attributes: a as E });
    });
    return out;
  }

  // ---- neighbourhood -----------------------------------------------------

  /** Targets of the node's outgoing edges; `NODE_NOT_FOUND` when absent. */
  outNeighbors(key: string): string[] {
    this.#need(key);
    return this.#graph.outNeighbors(key);
  }

  /** Sources of the node's incoming edges; `NODE_NOT_FOUND` when absent. */
  inNeighbors(key: string): string[] {
    this.#need(key);
    return this.#graph.inNeighbors(key);
  }

  /** Nodes joined to this one by an edge either way (each once). */
  neighbors(key: string): string[] {
    this.#need(key);
    return this.#graph.neighbors(key);
  }

  /** Calls `callback` with each out-neighbour (no array is built). */
  forEachOutNeighbor(key: string, callback: (neighbor: string) => void): void {
    this.#need(key);
    this.#graph.forEachOutNeighbor(key, callback);
  }

  /** Calls `callback` with each in-neighbour (no array is built). */
  forEachInNeighbor(key: string, callback: (neighbor: string) => void): void {
    this.#need(key);
    this.#graph.forEachInNeighbor(key, callback);
  }

  /** The number of outgoing edges. */
  outDegree(key: string): number {
    this.#need(key);
    return this.#graph.outDegree(key);
  }

  /** The number of incoming edges. */
  inDegree(key: string): number {
    this.#need(key);
    return this.#graph.inDegree(key);
  }

  /** In-degree plus out-degree. */
  degree(key: string): number {
    this.#need(key);
    return this.#graph.degree(key);
  }

  // ---- order and cycles --------------------------------------------------

  /**
   * Every node, each before all nodes it has an edge to (Kahn's algorithm,
   * `graphology-dag`). `CYCLE` (naming one) when the graph has a cycle.
   */
  topologicalOrder(): string[] {
    try {
      return topologicalSort(this.#graph);
    } catch (e) {
      throw this.#cycleError(e);
    }
  }

  /**
   * Nodes grouped in generations: the first holds nodes without incoming
   * edges, each next one the nodes whose predecessors are all in earlier
   * generations. `CYCLE` when the graph has a cycle.
   */
  topologicalGenerations(): string[][] {
    try {
      return topologicalGenerations(this.#graph);
    } catch (e) {
      throw this.#cycleError(e);
    }
  }

  /** True when the graph has a cycle (never for acyclic graphs). */
  hasCycle(): boolean {
    return this.#order === undefined && findCycle(this.#graph) !== null;
  }

  /** One cycle as `[a, ..., a]`, or null. */
  findCycle(): string[] | null {
    return this.#order === undefined ? findCycle(this.#graph) : null;
  }

  /** Every elementary cycle, up to `limit` (default 1000). */
  cycles(options: { limit?: number } = {}): string[][] {
    return this.#order === undefined ? simpleCycles(this.#graph, options) : [];
  }

  /** Strongly connected components (see {@link stronglyConnectedComponents}). */
  stronglyConnectedComponents(): string[][] {
    return stronglyConnectedComponents(this.#graph);
  }

  // ---- reachability ------------------------------------------------------

  /** Every node the given node reaches, itself excluded (unless on a cycle through it). */
  descendants(key: string): Set<string> {
    this.#need(key);
    return this.#strict(key, "out");
  }

  /** Every node that reaches the given node, itself excluded (unless on a cycle through it). */
  ancestors(key: string): Set<string> {
    this.#need(key);
    return this.#strict(key, "in");
  }

  /**
   * Every node reachable from any of `sources`, the sources included, in one
   * pass; `NODE_NOT_FOUND` for an unknown source.
   */
  reachable(sources: Iterable<string>, direction: "out" | "in" = "out"): Set<string> {
    const list = [...sources];
    for (const s of list) this.#need(s);
    return reachableFrom(this.#graph, list, direction);
  }

  /** A shortest path `from → ... → to`, or null when `to` is unreachable. */
  path(from: string, to: string): string[] | null {
    this.#need(from);
    this.#need(to);
    return shortestPath(this.#graph, from, to);
  }

  // ---- JSON --------------------------------------------------------------

  /** The graph as plain JSON (attribute objects shared, not copied). */
  toJSON(): FlowGraphJSON<N, E> {
    return {
      acyclic: this.acyclic,
      nodes: this.nodeEntries().map(([key, attributes]) => ({ key, attributes })),
      edges: this.edges(),
    };
  }

  /**
   * Rebuilds a graph from {@link toJSON}'s output (parsed JSON). Shape
   * problems are `INVALID_JSON`; graph rules are checked as in
   * {@link addEdge} (`NODE_EXISTS`, `NODE_NOT_FOUND`, `EDGE_EXISTS`,
   * `SELF_LOOP`, `CYCLE`).
   */
  static fromJSON<
    N extends object = Record<string, unknown>,
    E extends object = Record<string, unknown>,
  >(
    json: unknown,
    options: FromJSONOptions<N, E> = {},
  ): FlowGraph<N, E> {
    const checked = checkFlowGraphJSON(json);
    // Edges first, unchecked for cycles; then one topological sort checks an
    // acyclic graph and seeds its order (linear, instead of a search per edge).
    const g = new FlowGraph<N, E>();
    const node = options.node ?? ((a: object) => a as N);
    const edge = options.edge ?? ((a: object) => a as E);
    for (const n of checked.nodes) g.addNode(n.key, node(n.attributes));
    for (const e of checked.edges) g.addEdge(e.source, e.target, edge(e.attributes));
    if (checked.acyclic) {
      const order = new DynamicOrder();
      for (const key of g.topologicalOrder()) order.add(key);
      g.#order = order;
    }
    return g;
  }

  // ---- internals ---------------------------------------------------------

  #need(key: string): void {
    if (!this.#graph.hasNode(key)) {
      throw new FlowgraphError("NODE_NOT_FOUND", `no node ${JSON.stringify(key)}`, { key });
    }
  }

  #strict(key: string, direction: "out" | "in"): Set<string> {
    const seen = new Set<string>();
    const queue: string[] = [];
    const visit = (n: string) => {
      if (!seen.has(n)) {
        seen.add(n);
        queue.push(n);
      }
    };
    const g = this.#graph;
    if (direction === "out") g.forEachOutNeighbor(key, visit);
    else g.forEachInNeighbor(key, visit);
    for (let i = 0; i < queue.length; i++) {
      if (direction === "out") g.forEachOutNeighbor(queue[i], visit);
      else g.forEachInNeighbor(queue[i], visit);
    }
    return seen;
  }

  #cycleError(cause: unknown): unknown {
    const cycle = findCycle(this.#graph);
    if (cycle === null) return cause;
    return new FlowgraphError("CYCLE", `the graph has a cycle: ${cycle.join(" → ")}`, {
      cycle,
      cause,
    });
  }
}
