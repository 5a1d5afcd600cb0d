/**
 * The metagraph's records as the API returns them, and how rows become
 * records.
 *
 * @module
 */

import type { Driver } from "./driver/types.ts";
import { StorageError } from "./errors.ts";
import { fromJsonText, type JsonValue, toJsonText } from "./validate.ts";

/**
 * Attributes of a node or edge: a JSON object.
 *
 * @example
 * ```ts
 * import type { Attributes } from "@alknet/storage";
 * const attributes: Attributes = { port: 22, tags: ["ssh"], owner: { team: "ops" } };
 * console.log(attributes.port); // 22
 * ```
 */
export type Attributes = { [name: string]: JsonValue };

/**
 * A graph: an instance of a graph type.
 *
 * @example
 * ```ts
 * import { type Graph, openStore } from "@alknet/storage";
 * const store = await openStore(":memory:");
 * await store.metagraph.defineGraphType({ name: "net", nodeTypes: [{ name: "host" }] });
 * const g: Graph = await store.metagraph.createGraph("home", "net");
 * console.log(g.id, g.type); // "home" "net"
 * await store.close();
 * ```
 */
export interface Graph {
  /** Unique id. */
  id: string;
  /** Its graph type. */
  type: string;
  /** Created (Unix milliseconds). */
  createdAt: number;
}

/**
 * A node to add.
 *
 * @example
 * ```ts
 * import type { NodeInput } from "@alknet/storage";
 * const node: NodeInput = { key: "web1", type: "server", attributes: { port: 22 } };
 * console.log(node.key); // "web1"
 * ```
 */
export interface NodeInput {
  /** Unique within the graph. */
  key: string;
  /** A node type of the graph's type. */
  type: string;
  /** Checked against the node type's schema (default `{}`). */
  attributes?: Record<string, unknown>;
}

/**
 * A stored node.
 *
 * @example
 * ```ts
 * import { type MetaNode, openStore } from "@alknet/storage";
 * const store = await openStore(":memory:");
 * await store.metagraph.defineGraphType({ name: "net", nodeTypes: [{ name: "host" }] });
 * await store.metagraph.createGraph("home", "net");
 * const node: MetaNode = await store.metagraph.addNode("home", { key: "nas", type: "host", attributes: { ip: "192.0.2.5" } });
 * console.log(node.key, node.attributes); // "nas" { ip: "192.0.2.5" }
 * await store.close();
 * ```
 */
export interface MetaNode {
  /** The graph it belongs to. */
  graphId: string;
  /** Its key. */
  key: string;
  /** Its node type. */
  type: string;
  /** Its attributes. */
  attributes: Attributes;
  /** Created (Unix milliseconds). */
  createdAt: number;
  /** Last written (Unix milliseconds). */
  updatedAt: number;
}

/**
 * An edge to add.
 *
 * @example
 * ```ts
 * import type { EdgeInput } from "@alknet/storage";
 * const edge: EdgeInput = { type: "runs", source: "web1", target: "nginx", attributes: { since: "2024-01-01" } };
 * console.log(edge.type); // "runs"
 * ```
 */
export interface EdgeInput {
  /** An edge type of the graph's type. */
  type: string;
  /** The source node's key. */
  source: string;
  /** The target node's key. */
  target: string;
  /** Checked against the edge type's schema (default `{}`). */
  attributes?: Record<string, unknown>;
}

/**
 * A stored edge, identified by graph, type, source and target.
 *
 * @example
 * ```ts
 * import type { MetaEdge } from "@alknet/storage";
 * const describe = (e: MetaEdge) => `${e.source} -${e.type}-> ${e.target}`;
 * console.log(typeof describe); // "function"
 * ```
 */
export interface MetaEdge {
  /** The graph it belongs to. */
  graphId: string;
  /** Its edge type. */
  type: string;
  /** Source node key. */
  source: string;
  /** Target node key. */
  target: string;
  /** Its attributes. */
  attributes: Attributes;
  /** Created (Unix milliseconds). */
  createdAt: number;
  /** Last written (Unix milliseconds). */
  updatedAt: number;
}

/**
 * A node next to another, and the edge between them.
 *
 * @example
 * ```ts
 * import type { Neighbour } from "@alknet/storage";
 * const keys = (list: Neighbour[]) => list.filter((n) => n.direction === "out").map((n) => n.node.key);
 * console.log(keys([])); // []
 * ```
 */
export interface Neighbour {
  /** `out`: the edge leaves the node asked about; `in`: it arrives. */
  direction: "out" | "in";
  /** The edge. */
  edge: MetaEdge;
  /** The node at the other end. */
  node: MetaNode;
}

/**
 * Options of {@link Metagraph.listNodes}.
 *
 * @example
 * ```ts
 * import type { ListNodesOptions } from "@alknet/storage";
 * const page: ListNodesOptions = { type: "server", after: "web09", limit: 10 };
 * console.log(page.limit); // 10
 * ```
 */
export interface ListNodesOptions {
  /** Only nodes of this type. */
  type?: string;
  /** Only keys after this one (paging). */
  after?: string;
  /** At most this many (default 1000, at most 10000). */
  limit?: number;
}

export interface NodeRow {
  graph_id: string;
  key: string;
  node_type: string;
  attributes: string;
  created_at: number;
  updated_at: number;
}
export interface EdgeRow {
  graph_id: string;
  edge_type: string;
  source: string;
  target: string;
  attributes: string;
  created_at: number;
  updated_at: number;
}

export const NODE_COLS = "graph_id, key, node_type, attributes, created_at, updated_at";
export const EDGE_COLS = "graph_id, edge_type, source, target, attributes, created_at, updated_at";

export function nodeOf(r: NodeRow): MetaNode {
  return {
    graphId: r.graph_id,
    key: r.key,
    type: r.node_type,
    attributes: fromJsonText<Attributes>(r.attributes),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export function edgeOf(r: EdgeRow): MetaEdge {
  return {
    graphId: r.graph_id,
    type: r.edge_type,
    source: r.source,
    target: r.target,
    attributes: fromJsonText<Attributes>(r.attributes),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

/** PostgreSQL: share-lock the rows read (types, graphs) until commit; SQLite serializes writers anyway. */
export function forShare(db: Driver): string {
  return db.dialect === "postgres" ? " FOR SHARE" : "";
}

export function attributesText(what: string, a: unknown): string {
  const v = a === undefined ? {} : a;
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new StorageError("invalid-attributes", `${what}: attributes must be an object`, {
      issues: [{ path: "", message: "must be object" }],
    });
  }
  return toJsonText(`${what} attributes`, v);
}
