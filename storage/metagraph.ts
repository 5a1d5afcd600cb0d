/**
 * The metagraph: typed graphs of nodes (a unique key per graph) and edges,
 * every write validated against its type's JSON Schema and allowed node
 * types. Removing a graph removes its nodes and edges; removing a node
 * removes its edges.
 *
 * @module
 */

import type { Driver, SqlValue } from "./driver/types.ts";
import { StorageError } from "./errors.ts";
import { type SchemaCache, validateAttributes } from "./metagraph_schema.ts";
import {
  allows,
  defineGraphType,
  type GraphType,
  type GraphTypeDefinition,
  loadGraphType,
  removeGraphType,
} from "./metagraph_types.ts";
import {
  type Attributes,
  attributesText,
  EDGE_COLS,
  type EdgeInput,
  edgeOf,
  type EdgeRow,
  forShare,
  type Graph,
  type ListNodesOptions,
  type MetaEdge,
  type MetaNode,
  type Neighbour,
  NODE_COLS,
  type NodeInput,
  nodeOf,
  type NodeRow,
} from "./metagraph_model.ts";
import { checkInteger, checkName, fromJsonText } from "./validate.ts";

export type {
  Attributes,
  EdgeInput,
  Graph,
  ListNodesOptions,
  MetaEdge,
  MetaNode,
  Neighbour,
  NodeInput,
} from "./metagraph_model.ts";

/**
 * The metagraph of a store (or of a transaction).
 *
 * @example
 * ```ts
 * import { openStore, StorageError } from "@alknet/storage";
 * const store = await openStore(":memory:");
 * const meta = store.metagraph;
 * await meta.defineGraphType({
 *   name: "infra",
 *   nodeTypes: [
 *     { name: "server", schema: { type: "object", properties: { port: { type: "integer" } }, required: ["port"] } },
 *     { name: "service" },
 *   ],
 *   edgeTypes: [{ name: "runs", sources: ["server"], targets: ["service"] }],
 * });
 * await meta.createGraph("prod", "infra");
 * await meta.addNode("prod", { key: "web1", type: "server", attributes: { port: 22 } });
 * await meta.addNode("prod", { key: "nginx", type: "service" });
 * await meta.addEdge("prod", { type: "runs", source: "web1", target: "nginx" });
 * console.log((await meta.neighbours("prod", "web1")).map((n) => n.node.key)); // [ "nginx" ]
 * try {
 *   await meta.addNode("prod", { key: "web2", type: "server", attributes: { port: "22" } });
 * } catch (e) {
 *   if (e instanceof StorageError) console.log(e.code, e.issues[0].path); // "invalid-attributes" "/port"
 * }
 * await store.close();
 * ```
 */
export class Metagraph {
  readonly #db: Driver;
  readonly #cache: SchemaCache;

  /** The metagraph on `db`; stores create this for you. */
  constructor(db: Driver, cache: SchemaCache) {
    this.#db = db;
    this.#cache = cache;
  }

  #tx<T>(fn: (tx: Driver) => Promise<T>): Promise<T> {
    return this.#db.transaction(fn);
  }

  /**
   * Creates or replaces a graph type. Replacing revalidates every node and
   * edge whose type changed (`invalid-attributes` or `not-allowed` naming
   * the first that no longer fits) and refuses to drop a type still in use
   * (`in-use`); nothing changes on failure.
   */
  defineGraphType(definition: GraphTypeDefinition): Promise<GraphType> {
    return this.#tx((tx) => defineGraphType(tx, this.#cache, definition));
  }

  /** The graph type, or null. */
  getGraphType(name: string): Promise<GraphType | null> {
    checkName("graph type", name);
    return loadGraphType(this.#db, name);
  }

  /** The names of every graph type. */
  async listGraphTypes(): Promise<string[]> {
    const rows = await this.#db.query<{ name: string }>(
      "SELECT name FROM meta_graph_types ORDER BY name",
    );
    return rows.map((r) => r.name);
  }

  /** Removes a graph type; `in-use` while graphs of it exist. */
  removeGraphType(name: string): Promise<void> {
    return this.#tx((tx) => removeGraphType(tx, name));
  }

  /** Creates an empty graph of `type`; `exists` if the id is taken. */
  createGraph(id: string, type: string): Promise<Graph> {
    checkName("graph id", id);
    checkName("graph type", type);
    return this.#tx(async (tx) => {
      const t = await tx.query("SELECT 1 AS x FROM meta_graph_types WHERE name = ?", [type]);
      if (t.length === 0) {
        throw new StorageError("not-found", `graph type '${type}' does not exist`);
      }
      const g = await tx.query("SELECT 1 AS x FROM meta_graphs WHERE graph_id = ?", [id]);
      if (g.length > 0) throw new StorageError("exists", `graph '${id}' already exists`);
      const now = Date.now();
      await tx.execute(
        "INSERT INTO meta_graphs (graph_id, graph_type, created_at) VALUES (?, ?, ?)",
        [id, type, now],
      );
      return { id, type, createdAt: now };
    });
  }

  /** The graph, or null. */
  async getGraph(id: string): Promise<Graph | null> {
    checkName("graph id", id);
    const [r] = await this.#db.query<{ graph_id: string; graph_type: string; created_at: number }>(
      "SELECT graph_id, graph_type, created_at FROM meta_graphs WHERE graph_id = ?",
      [id],
    );
    return r ? { id: r.graph_id, type: r.graph_type, createdAt: Number(r.created_at) } : null;
  }

  /** Every graph (of `type`, when given), by id. */
  async listGraphs(type?: string): Promise<Graph[]> {
    if (type !== undefined) checkName("graph type", type);
    const rows = await this.#db.query<{ graph_id: string; graph_type: string; created_at: number }>(
      "SELECT graph_id, graph_type, created_at FROM meta_graphs" +
        (type === undefined ? "" : " WHERE graph_type = ?") + " ORDER BY graph_id",
      type === undefined ? [] : [type],
    );
    return rows.map((r) => ({
      id: r.graph_id,
      type: r.graph_type,
      createdAt: Number(r.created_at),
    }));
  }

  /** Removes a graph with all its nodes and edges; `not-found` if absent. */
  async removeGraph(id: string): Promise<void> {
    checkName("graph id", id);
    const n = await this.#db.execute("DELETE FROM meta_graphs WHERE graph_id = ?", [id]);
    if (n === 0) throw new StorageError("not-found", `graph '${id}' does not exist`);
  }

  /** Adds a node; `exists` if the key is taken, `invalid-attributes` naming each failing path. */
  async addNode(graphId: string, node: NodeInput): Promise<MetaNode> {
    return (await this.addNodes(graphId, [node]))[0];
  }

  /** Adds nodes in one transaction, all or nothing. */
  addNodes(graphId: string, nodes: readonly NodeInput[]): Promise<MetaNode[]> {
    checkName("graph id", graphId);
    if (!Array.isArray(nodes)) throw new StorageError("invalid-input", "nodes must be a list");
    return this.#tx(async (tx) => {
      const types = new Map<string, { graphType: string; schema: string }>();
      const now = Date.now();
      const rows: [string, string, string][] = [];
      const out: MetaNode[] = [];
      let graphType = "";
      for (const n of nodes) {
        const key = checkName("node key", n?.key, 500);
        const type = checkName("node type", n.type);
        let t = types.get(type);
        if (t === undefined) types.set(type, t = await this.#nodeType(tx, graphId, type));
        graphType = t.graphType;
        const what = `node '${key}' (${type})`;
        const text = attributesText(what, n.attributes);
        const attributes = JSON.parse(text) as Attributes;
        validateAttributes(this.#cache.validator(t.schema), what, attributes);
        rows.push([key, type, text]);
        out.push({ graphId, key, type, attributes, createdAt: now, updatedAt: now });
      }
      if (rows.length === 0) return out;
      try {
        if (tx.dialect === "postgres") {
          await tx.execute(
            "INSERT INTO meta_nodes (graph_id, key, graph_type, node_type, attributes, created_at, " +
              "updated_at) SELECT $1, u.k, $2, u.t, u.a, $3, $3 " +
              "FROM unnest($4::text[], $5::text[], $6::text[]) AS u(k, t, a)",
            [
              graphId,
              graphType,
              now,
              rows.map((r) => r[0]),
              rows.map((r) => r[1]),
              rows.map((r) => r[2]),
            ],
          );
        } else {
          await tx.executeMany(
            "INSERT INTO meta_nodes (graph_id, key, graph_type, node_type, attributes, " +
              "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows.map(([k, t, a]) => [graphId, k, graphType, t, a, now, now]),
          );
        }
      } catch (e) {
        if (e instanceof StorageError && e.constraint === "unique") {
          const which = nodes.length === 1 ? `node '${nodes[0].key}'` : "a node key";
          throw new StorageError("exists", `${which} already exists in graph '${graphId}'`, {
            cause: e,
          });
        }
        throw e;
      }
      return out;
    });
  }

  /**
   * The graph's type and the schema of its node type `type`. On PostgreSQL
   * both rows are share-locked until the transaction ends, so a concurrent
   * redefinition waits and then revalidates what this one wrote.
   */
  async #nodeType(
    tx: Driver,
    graphId: string,
    type: string,
  ): Promise<{ graphType: string; schema: string }> {
    const [r] = await tx.query<{ graph_type: string; schema: string }>(
      "SELECT g.graph_type, t.schema FROM meta_graphs g JOIN meta_node_types t " +
        "ON t.graph_type = g.graph_type AND t.name = ? WHERE g.graph_id = ?" + forShare(tx),
      [type, graphId],
    );
    if (r) return { graphType: r.graph_type, schema: r.schema };
    const graphType = await this.#graphType(tx, graphId);
    throw new StorageError("not-found", `graph type '${graphType}' has no node type '${type}'`);
  }

  async #graphType(tx: Driver, graphId: string): Promise<string> {
    const [g] = await tx.query<{ graph_type: string }>(
      "SELECT graph_type FROM meta_graphs WHERE graph_id = ?" + forShare(tx),
      [graphId],
    );
    if (!g) throw new StorageError("not-found", `graph '${graphId}' does not exist`);
    return g.graph_type;
  }

  /** Replaces a node's attributes (validated); `not-found` if absent. */
  updateNode(graphId: string, key: string, attributes: Record<string, unknown>): Promise<MetaNode> {
    checkName("graph id", graphId);
    checkName("node key", key, 500);
    return this.#tx(async (tx) => {
      const [r] = await tx.query<NodeRow & { schema: string }>(
        "SELECT n.graph_id, n.key, n.node_type, n.attributes, n.created_at, n.updated_at, t.schema " +
          "FROM meta_nodes n JOIN meta_node_types t ON t.graph_type = n.graph_type " +
          "AND t.name = n.node_type WHERE n.graph_id = ? AND n.key = ?" + forShare(tx),
        [graphId, key],
      );
      if (!r) throw new StorageError("not-found", `graph '${graphId}' has no node '${key}'`);
      const what = `node '${key}' (${r.node_type})`;
      const text = attributesText(what, attributes);
      validateAttributes(this.#cache.validator(r.schema), what, JSON.parse(text));
      const now = Date.now();
      await tx.execute(
        "UPDATE meta_nodes SET attributes = ?, updated_at = ? WHERE graph_id = ? AND key = ?",
        [text, now, graphId, key],
      );
      return nodeOf({ ...r, attributes: text, updated_at: now });
    });
  }

  /** The node, or null. */
  async getNode(graphId: string, key: string): Promise<MetaNode | null> {
    checkName("graph id", graphId);
    checkName("node key", key, 500);
    const [r] = await this.#db.query<NodeRow>(
      `SELECT ${NODE_COLS} FROM meta_nodes WHERE graph_id = ? AND key = ?`,
      [graphId, key],
    );
    return r ? nodeOf(r) : null;
  }

  /** Nodes of a graph by key (of one type, after a key, up to a limit). */
  async listNodes(graphId: string, options: ListNodesOptions = {}): Promise<MetaNode[]> {
    checkName("graph id", graphId);
    const where = ["graph_id = ?"];
    const params: SqlValue[] = [graphId];
    if (options.type !== undefined) {
      where.push("node_type = ?");
      params.push(checkName("node type", options.type));
    }
    if (options.after !== undefined) {
      where.push("key > ?");
      params.push(String(options.after));
    }
    params.push(checkInteger("limit", options.limit ?? 1000, 1, 10_000));
    const rows = await this.#db.query<NodeRow>(
      `SELECT ${NODE_COLS} FROM meta_nodes WHERE ${where.join(" AND ")} ORDER BY key LIMIT ?`,
      params,
    );
    return rows.map(nodeOf);
  }

  /** Removes a node and every edge touching it; `not-found` if absent. */
  async removeNode(graphId: string, key: string): Promise<void> {
    checkName("graph id", graphId);
    checkName("node key", key, 500);
    const n = await this.#db.execute("DELETE FROM meta_nodes WHERE graph_id = ? AND key = ?", [
      graphId,
      key,
    ]);
    if (n === 0) throw new StorageError("not-found", `graph '${graphId}' has no node '${key}'`);
  }

  /**
   * Adds an edge: both nodes must exist (`not-found`), their types must be
   * allowed by the edge type (`not-allowed`), the attributes must fit
   * (`invalid-attributes`); `exists` if the same edge is there.
   */
  addEdge(graphId: string, edge: EdgeInput): Promise<MetaEdge> {
    checkName("graph id", graphId);
    const type = checkName("edge type", edge?.type);
    const source = checkName("source", edge.source, 500);
    const target = checkName("target", edge.target, 500);
    return this.#tx(async (tx) => {
      const graphType = await this.#graphType(tx, graphId);
      const [t] = await tx.query<{ schema: string; sources: string; targets: string }>(
        "SELECT schema, sources, targets FROM meta_edge_types WHERE graph_type = ? AND name = ?" +
          forShare(tx),
        [graphType, type],
      );
      if (!t) {
        throw new StorageError("not-found", `graph type '${graphType}' has no edge type '${type}'`);
      }
      const ends = await tx.query<{ key: string; node_type: string }>(
        "SELECT key, node_type FROM meta_nodes WHERE graph_id = ? AND key IN (?, ?)",
        [graphId, source, target],
      );
      const typeOf = new Map(ends.map((e) => [e.key, e.node_type]));
      for (const k of [source, target]) {
        if (!typeOf.has(k)) {
          throw new StorageError("not-found", `graph '${graphId}' has no node '${k}'`);
        }
      }
      const st = typeOf.get(source)!;
      const tt = typeOf.get(target)!;
      if (
        !allows(fromJsonText<string[]>(t.sources), st) ||
        !allows(fromJsonText<string[]>(t.targets), tt)
      ) {
        throw new StorageError(
          "not-allowed",
          `edge type '${type}' does not allow ${st} -> ${tt} (${source} -> ${target})`,
        );
      }
      const what = `edge '${type}' ${source} -> ${target}`;
      const text = attributesText(what, edge.attributes);
      validateAttributes(this.#cache.validator(t.schema), what, JSON.parse(text));
      const now = Date.now();
      try {
        await tx.execute(
          "INSERT INTO meta_edges (graph_id, graph_type, edge_type, source, target, attributes, " +
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
          [graphId, graphType, type, source, target, text, now, now],
        );
      } catch (e) {
        if (e instanceof StorageError && e.constraint === "unique") {
          throw new StorageError("exists", `${what} already exists in graph '${graphId}'`, {
            cause: e,
          });
        }
        throw e;
      }
      return edgeOf({
        graph_id: graphId,
        edge_type: type,
        source,
        target,
        attributes: text,
        created_at: now,
        updated_at: now,
      });
    });
  }

  /** Removes an edge; `not-found` if absent. */
  async removeEdge(graphId: string, type: string, source: string, target: string): Promise<void> {
    checkName("graph id", graphId);
    const n = await this.#db.execute(
      "DELETE FROM meta_edges WHERE graph_id = ? AND edge_type = ? AND source = ? AND target = ?",
      [graphId, type, source, target],
    );
    if (n === 0) {
      throw new StorageError(
        "not-found",
        `graph '${graphId}' has no edge '${type}' ${source} -> ${target}`,
      );
    }
  }

  /** Edges of a graph, optionally of one type, from one source or to one target. */
  async listEdges(
    graphId: string,
    filter: { type?: string; source?: string; target?: string } = {},
  ): Promise<MetaEdge[]> {
    checkName("graph id", graphId);
    const where = ["graph_id = ?"];
    const params: SqlValue[] = [graphId];
    for (
      const [col, v] of [["edge_type", filter.type], ["source", filter.source], [
        "target",
        filter.target,
      ]]
    ) {
      if (v !== undefined) {
        where.push(`${col} = ?`);
        params.push(String(v));
      }
    }
    const rows = await this.#db.query<EdgeRow>(
      `SELECT ${EDGE_COLS} FROM meta_edges WHERE ${where.join(" AND ")} ` +
        "ORDER BY source, edge_type, target",
      params,
    );
    return rows.map(edgeOf);
  }

  /**
   * The nodes joined to `key` by an edge (`out`: edges leaving it; `in`:
   * arriving; default both), optionally through one edge type.
   */
  async neighbours(
    graphId: string,
    key: string,
    options: { direction?: "out" | "in" | "both"; edgeType?: string } = {},
  ): Promise<Neighbour[]> {
    checkName("graph id", graphId);
    checkName("node key", key, 500);
    const direction = options.direction ?? "both";
    const out: Neighbour[] = [];
    for (const dir of ["out", "in"] as const) {
      if (direction !== "both" && direction !== dir) continue;
      const [near, far] = dir === "out" ? ["source", "target"] : ["target", "source"];
      const params: SqlValue[] = [graphId, key];
      let typeClause = "";
      if (options.edgeType !== undefined) {
        typeClause = " AND e.edge_type = ?";
        params.push(options.edgeType);
      }
      const rows = await this.#db.query<
        EdgeRow & { n_type: string; n_attributes: string; n_created: number; n_updated: number }
      >(
        "SELECT e.graph_id, e.edge_type, e.source, e.target, e.attributes, e.created_at, e.updated_at, " +
          "n.node_type AS n_type, n.attributes AS n_attributes, n.created_at AS n_created, " +
          "n.updated_at AS n_updated FROM meta_edges e JOIN meta_nodes n " +
          `ON n.graph_id = e.graph_id AND n.key = e.${far} ` +
          `WHERE e.graph_id = ? AND e.${near} = ?${typeClause} ORDER BY e.${far}, e.edge_type`,
        params,
      );
      for (const r of rows) {
        out.push({
          direction: dir,
          edge: edgeOf(r),
          node: nodeOf({
            graph_id: r.graph_id,
            key: dir === "out" ? r.target : r.source,
            node_type: r.n_type,
            attributes: r.n_attributes,
            created_at: r.n_created,
            updated_at: r.n_updated,
          }),
        });
      }
    }
    return out;
  }
}
