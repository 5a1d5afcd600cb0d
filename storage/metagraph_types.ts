/**
 * Metagraph type definitions: a graph type names its node types and edge
 * types; each carries a JSON Schema for its attributes, and each edge type
 * lists the node types it may join. Redefining a type revalidates the data
 * that uses it, inside the same transaction.
 *
 * @module
 */

import type { Driver } from "./driver/types.ts";
import { StorageError } from "./errors.ts";
import {
  type JsonSchema,
  type SchemaCache,
  schemaText,
  validateAttributes,
} from "./metagraph_schema.ts";
import { checkName, fromJsonText } from "./validate.ts";

/**
 * A node type: its name and the schema of its attributes.
 *
 * @example
 * ```ts
 * import type { NodeTypeDefinition } from "@alknet/storage";
 * const server: NodeTypeDefinition = {
 *   name: "server",
 *   schema: { type: "object", properties: { port: { type: "integer" } }, required: ["port"] },
 * };
 * console.log(server.name); // "server"
 * ```
 */
export interface NodeTypeDefinition {
  /** Unique within the graph type. */
  name: string;
  /** What it stands for. */
  description?: string;
  /** JSON Schema (2020-12) of the attributes object (default `{}`: any object). */
  schema?: JsonSchema;
}

/**
 * An edge type: its attribute schema and the node types it may join.
 *
 * @example
 * ```ts
 * import type { EdgeTypeDefinition } from "@alknet/storage";
 * const runs: EdgeTypeDefinition = { name: "runs", sources: ["server"], targets: ["service"] };
 * console.log(runs.sources); // [ "server" ]
 * ```
 */
export interface EdgeTypeDefinition {
  /** Unique within the graph type. */
  name: string;
  /** What it stands for. */
  description?: string;
  /** JSON Schema of the attributes object (default `{}`). */
  schema?: JsonSchema;
  /** Node types an edge may start at (`"*"`: any). */
  sources: string[];
  /** Node types an edge may end at (`"*"`: any). */
  targets: string[];
}

/**
 * A graph type: the node and edge types its graphs may hold.
 *
 * @example
 * ```ts
 * import type { GraphTypeDefinition } from "@alknet/storage";
 * const infra: GraphTypeDefinition = {
 *   name: "infra",
 *   nodeTypes: [{ name: "server" }, { name: "service" }],
 *   edgeTypes: [{ name: "runs", sources: ["server"], targets: ["service"] }],
 * };
 * console.log(infra.nodeTypes.length); // 2
 * ```
 */
export interface GraphTypeDefinition {
  /** Unique name. */
  name: string;
  /** What its graphs describe. */
  description?: string;
  /** Node types. */
  nodeTypes: NodeTypeDefinition[];
  /** Edge types (default none). */
  edgeTypes?: EdgeTypeDefinition[];
}

/**
 * A stored graph type, with every default filled in.
 *
 * @example
 * ```ts
 * import { type GraphType, openStore } from "@alknet/storage";
 * const store = await openStore(":memory:");
 * const t: GraphType = await store.metagraph.defineGraphType({ name: "net", nodeTypes: [{ name: "host" }] });
 * console.log(t.nodeTypes[0]); // { name: "host", description: "", schema: {} }
 * await store.close();
 * ```
 */
export interface GraphType {
  /** Unique name. */
  name: string;
  /** Description (may be empty). */
  description: string;
  /** Node types, by name. */
  nodeTypes: Required<NodeTypeDefinition>[];
  /** Edge types, by name. */
  edgeTypes: Required<EdgeTypeDefinition>[];
  /** Created (Unix milliseconds). */
  createdAt: number;
  /** Last redefined (Unix milliseconds). */
  updatedAt: number;
}

interface NodeTypeRow {
  name: string;
  description: string;
  schema: string;
}
interface EdgeTypeRow extends NodeTypeRow {
  sources: string;
  targets: string;
}

/** Loads one graph type, or null. */
export async function loadGraphType(db: Driver, name: string): Promise<GraphType | null> {
  const [g] = await db.query<
    { name: string; description: string; created_at: number; updated_at: number }
  >(
    "SELECT name, description, created_at, updated_at FROM meta_graph_types WHERE name = ?",
    [name],
  );
  if (!g) return null;
  const nodes = await db.query<NodeTypeRow>(
    "SELECT name, description, schema FROM meta_node_types WHERE graph_type = ? ORDER BY name",
    [name],
  );
  const edges = await db.query<EdgeTypeRow>(
    "SELECT name, description, schema, sources, targets FROM meta_edge_types " +
      "WHERE graph_type = ? ORDER BY name",
    [name],
  );
  return {
    name: g.name,
    description: g.description,
    nodeTypes: nodes.map((n) => ({
      name: n.name,
      description: n.description,
      schema: fromJsonText<JsonSchema>(n.schema),
    })),
    edgeTypes: edges.map((e) => ({
      name: e.name,
      description: e.description,
      schema: fromJsonText<JsonSchema>(e.schema),
      sources: fromJsonText<string[]>(e.sources),
      targets: fromJsonText<string[]>(e.targets),
    })),
    createdAt: Number(g.created_at),
    updatedAt: Number(g.updated_at),
  };
}

function checkDescription(what: string, d: unknown): string {
  if (d === undefined) return "";
  if (typeof d !== "string" || d.length > 2000) {
    throw new StorageError(
      "invalid-input",
      `${what}: a description is a string of at most 2000 characters`,
    );
  }
  return d;
}

interface CheckedType {
  name: string;
  description: string;
  schema: string;
  sources?: string[];
  targets?: string[];
}

function checkDefinition(cache: SchemaCache, def: GraphTypeDefinition) {
  if (def === null || typeof def !== "object") {
    throw new StorageError("invalid-input", "a graph type definition is an object");
  }
  const name = checkName("graph type", def.name);
  const description = checkDescription(`graph type '${name}'`, def.description);
  if (!Array.isArray(def.nodeTypes)) {
    throw new StorageError("invalid-input", `graph type '${name}': nodeTypes must be a list`);
  }
  const nodeTypes = new Map<string, CheckedType>();
  for (const n of def.nodeTypes) {
    const nt = checkName("node type", n?.name);
    if (nodeTypes.has(nt)) {
      throw new StorageError("invalid-input", `graph type '${name}' lists node type '${nt}' twice`);
    }
    nodeTypes.set(nt, {
      name: nt,
      description: checkDescription(`node type '${nt}'`, n.description),
      schema: schemaText(cache, `node type '${nt}'`, n.schema),
    });
  }
  const edgeTypes = new Map<string, CheckedType>();
  for (const e of def.edgeTypes ?? []) {
    const et = checkName("edge type", e?.name);
    if (edgeTypes.has(et)) {
      throw new StorageError("invalid-input", `graph type '${name}' lists edge type '${et}' twice`);
    }
    const ends = (list: unknown, which: string): string[] => {
      if (!Array.isArray(list) || list.length === 0) {
        throw new StorageError(
          "invalid-input",
          `edge type '${et}': ${which} must list node types or "*"`,
        );
      }
      for (const t of list) {
        if (t !== "*" && !nodeTypes.has(t)) {
          throw new StorageError(
            "invalid-input",
            `edge type '${et}': ${which} names '${t}', which is not a node type of '${name}'`,
          );
        }
      }
      return [...new Set(list as string[])].sort();
    };
    edgeTypes.set(et, {
      name: et,
      description: checkDescription(`edge type '${et}'`, e.description),
      schema: schemaText(cache, `edge type '${et}'`, e.schema),
      sources: ends(e.sources, "sources"),
      targets: ends(e.targets, "targets"),
    });
  }
  return { name, description, nodeTypes, edgeTypes };
}

/**
 * Whether `allowed` (a sources or targets list) admits node type `t`.
 *
 * @example
 * ```ts
 * import { allows } from "@alknet/storage/metagraph";
 * console.log(allows(["server"], "server"), allows(["*"], "anything"), allows(["server"], "note")); // true true false
 * ```
 */
export function allows(allowed: readonly string[], t: string): boolean {
  return allowed.includes("*") || allowed.includes(t);
}

/** Creates or replaces a graph type; see {@link Metagraph.defineGraphType}. */
export async function defineGraphType(
  tx: Driver,
  cache: SchemaCache,
  def: GraphTypeDefinition,
): Promise<GraphType> {
  const d = checkDefinition(cache, def);
  const now = Date.now();
  const old = await loadGraphType(tx, d.name);
  if (!old) {
    await tx.execute(
      "INSERT INTO meta_graph_types (name, description, created_at, updated_at) VALUES (?, ?, ?, ?)",
      [d.name, d.description, now, now],
    );
  } else {
    await tx.execute("UPDATE meta_graph_types SET description = ?, updated_at = ? WHERE name = ?", [
      d.description,
      now,
      d.name,
    ]);
    for (const e of old.edgeTypes) {
      if (d.edgeTypes.has(e.name)) continue;
      const used = await tx.query(
        "SELECT 1 AS x FROM meta_edges WHERE graph_type = ? AND edge_type = ? LIMIT 1",
        [d.name, e.name],
      );
      if (used.length > 0) {
        throw new StorageError(
          "in-use",
          `edge type '${e.name}' still has edges; remove them first`,
        );
      }
      await tx.execute("DELETE FROM meta_edge_types WHERE graph_type = ? AND name = ?", [
        d.name,
        e.name,
      ]);
    }
    for (const n of old.nodeTypes) {
      if (d.nodeTypes.has(n.name)) continue;
      const used = await tx.query(
        "SELECT 1 AS x FROM meta_nodes WHERE graph_type = ? AND node_type = ? LIMIT 1",
        [d.name, n.name],
      );
      if (used.length > 0) {
        throw new StorageError(
          "in-use",
          `node type '${n.name}' still has nodes; remove them first`,
        );
      }
      await tx.execute("DELETE FROM meta_node_types WHERE graph_type = ? AND name = ?", [
        d.name,
        n.name,
      ]);
    }
  }
  const oldNodes = new Map(old?.nodeTypes.map((n) => [n.name, JSON.stringify(n.schema)]) ?? []);
  const oldEdges = new Map(
    old?.edgeTypes.map((e) => [e.name, JSON.stringify([e.schema, e.sources, e.targets])]) ?? [],
  );
  for (const n of d.nodeTypes.values()) {
    await tx.execute(
      "INSERT INTO meta_node_types (graph_type, name, description, schema) VALUES (?, ?, ?, ?) " +
        "ON CONFLICT (graph_type, name) DO UPDATE SET description = excluded.description, " +
        "schema = excluded.schema",
      [d.name, n.name, n.description, n.schema],
    );
    const before = oldNodes.get(n.name);
    if (before !== undefined && before !== n.schema) await revalidateNodes(tx, cache, d.name, n);
  }
  for (const e of d.edgeTypes.values()) {
    await tx.execute(
      "INSERT INTO meta_edge_types (graph_type, name, description, schema, sources, targets) " +
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (graph_type, name) DO UPDATE SET " +
        "description = excluded.description, schema = excluded.schema, " +
        "sources = excluded.sources, targets = excluded.targets",
      [
        d.name,
        e.name,
        e.description,
        e.schema,
        JSON.stringify(e.sources),
        JSON.stringify(e.targets),
      ],
    );
    const before = oldEdges.get(e.name);
    const now = JSON.stringify([JSON.parse(e.schema), e.sources, e.targets]);
    if (before !== undefined && before !== now) await revalidateEdges(tx, cache, d.name, e);
  }
  return (await loadGraphType(tx, d.name))!;
}

async function revalidateNodes(tx: Driver, cache: SchemaCache, graphType: string, t: CheckedType) {
  const validate = cache.validator(t.schema);
  const rows = await tx.query<{ graph_id: string; key: string; attributes: string }>(
    "SELECT graph_id, key, attributes FROM meta_nodes WHERE graph_type = ? AND node_type = ?",
    [graphType, t.name],
  );
  for (const r of rows) {
    validateAttributes(
      validate,
      `node '${r.key}' of graph '${r.graph_id}' no longer fits node type '${t.name}'`,
      fromJsonText(r.attributes),
    );
  }
}

async function revalidateEdges(tx: Driver, cache: SchemaCache, graphType: string, t: CheckedType) {
  const validate = cache.validator(t.schema);
  const rows = await tx.query<
    { graph_id: string; source: string; target: string; attributes: string; st: string; tt: string }
  >(
    "SELECT e.graph_id, e.source, e.target, e.attributes, s.node_type AS st, d.node_type AS tt " +
      "FROM meta_edges e JOIN meta_nodes s ON s.graph_id = e.graph_id AND s.key = e.source " +
      "JOIN meta_nodes d ON d.graph_id = e.graph_id AND d.key = e.target " +
      "WHERE e.graph_type = ? AND e.edge_type = ?",
    [graphType, t.name],
  );
  for (const r of rows) {
    const what = `edge '${t.name}' ${r.source} -> ${r.target} of graph '${r.graph_id}'`;
    if (!allows(t.sources!, r.st) || !allows(t.targets!, r.tt)) {
      throw new StorageError(
        "not-allowed",
        `${what} joins ${r.st} -> ${r.tt}, which the new definition does not allow`,
      );
    }
    validateAttributes(validate, `${what} no longer fits its type`, fromJsonText(r.attributes));
  }
}

/** Removes a graph type; `in-use` while graphs of it exist. */
export async function removeGraphType(tx: Driver, name: string): Promise<void> {
  checkName("graph type", name);
  const used = await tx.query("SELECT 1 AS x FROM meta_graphs WHERE graph_type = ? LIMIT 1", [
    name,
  ]);
  if (used.length > 0) {
    throw new StorageError("in-use", `graph type '${name}' still has graphs; remove them first`);
  }
  const n = await tx.execute("DELETE FROM meta_graph_types WHERE name = ?", [name]);
  if (n === 0) throw new StorageError("not-found", `graph type '${name}' does not exist`);
}
