/**
 * `meta/*` operations: metagraph types, graphs, nodes, edges, neighbours.
 *
 * @module
 */

import type { MetaEdge, MetaNode } from "../metagraph.ts";
import type { GraphTypeDefinition } from "../metagraph_types.ts";
import type { Store } from "../store.ts";
import { type ErrorFactory, errors, guard, object, S, type StorageOperation } from "./common.ts";

const READ = ["admin:meta", "meta:read", "meta:write"];
const WRITE = ["admin:meta", "meta:write"];

function nodeWire(n: MetaNode) {
  return {
    graph: n.graphId,
    key: n.key,
    type: n.type,
    attributes: n.attributes,
    created_at: n.createdAt,
    updated_at: n.updatedAt,
  };
}

function edgeWire(e: MetaEdge) {
  return {
    graph: e.graphId,
    type: e.type,
    source: e.source,
    target: e.target,
    attributes: e.attributes,
    created_at: e.createdAt,
    updated_at: e.updatedAt,
  };
}

const NODE_OUT = object({
  graph: S.name,
  key: S.text,
  type: S.name,
  attributes: S.attributes,
  created_at: S.int,
  updated_at: S.int,
}, ["graph", "key", "type", "attributes"]);
const EDGE_OUT = object({
  graph: S.name,
  type: S.name,
  source: S.text,
  target: S.text,
  attributes: S.attributes,
  created_at: S.int,
  updated_at: S.int,
}, ["graph", "type", "source", "target", "attributes"]);
const GRAPH_OUT = object({ id: S.name, type: S.name, created_at: S.int }, ["id", "type"]);
const TYPE_DEF = {
  type: "object",
  properties: {
    name: S.name,
    description: S.text,
    nodeTypes: { type: "array", items: { type: "object" } },
    edgeTypes: { type: "array", items: { type: "object" } },
  },
  required: ["name", "nodeTypes"],
};
const EDGE_KEY = object(
  { graph: S.name, type: S.name, source: S.text, target: S.text },
  ["graph", "type", "source", "target"],
);
const DONE = object({ removed: S.bool }, ["removed"]);

type Op = Omit<StorageOperation, "errors" | "access" | "type"> & {
  write?: boolean;
  errors?: string[];
};

/** The `meta/*` operations on `store`. */
export function metaOperations(store: Store, toError: ErrorFactory): StorageOperation[] {
  const m = store.metagraph;
  const ops: Op[] = [
    {
      name: "meta/types",
      description: "The names of every graph type.",
      input_schema: object({}),
      output_schema: S.strings,
      handler: guard(toError, () => m.listGraphTypes()),
    },
    {
      name: "meta/type",
      description: "One graph type with its node and edge types.",
      input_schema: object({ name: S.name }, ["name"]),
      output_schema: { type: "object" },
      handler: guard(toError, async ({ name }: { name: string }) => {
        const t = await m.getGraphType(name);
        if (!t) throw toError("NOT_FOUND", `graph type '${name}' does not exist`);
        return t;
      }),
    },
    {
      name: "meta/define-type",
      description: "Creates or replaces a graph type; existing data is revalidated.",
      input_schema: TYPE_DEF,
      output_schema: { type: "object" },
      write: true,
      errors: ["INVALID_SCHEMA", "INVALID_ATTRIBUTES", "NOT_ALLOWED", "IN_USE"],
      handler: guard(toError, (def: GraphTypeDefinition) => m.defineGraphType(def)),
    },
    {
      name: "meta/remove-type",
      description: "Removes a graph type that no graph uses.",
      input_schema: object({ name: S.name }, ["name"]),
      output_schema: DONE,
      write: true,
      errors: ["IN_USE"],
      handler: guard(toError, async ({ name }: { name: string }) => {
        await m.removeGraphType(name);
        return { removed: true };
      }),
    },
    {
      name: "meta/graphs",
      description: "Every graph (of one type, when given).",
      input_schema: object({ type: S.name }),
      output_schema: { type: "array", items: GRAPH_OUT },
      handler: guard(
        toError,
        async (i: { type?: string } | null) =>
          (await m.listGraphs(i?.type)).map((g) => ({
            id: g.id,
            type: g.type,
            created_at: g.createdAt,
          })),
      ),
    },
    {
      name: "meta/create-graph",
      description: "Creates an empty graph of a type.",
      input_schema: object({ id: S.name, type: S.name }, ["id", "type"]),
      output_schema: GRAPH_OUT,
      write: true,
      errors: ["EXISTS"],
      handler: guard(toError, async ({ id, type }: { id: string; type: string }) => {
        const g = await m.createGraph(id, type);
        return { id: g.id, type: g.type, created_at: g.createdAt };
      }),
    },
    {
      name: "meta/remove-graph",
      description: "Removes a graph with its nodes and edges.",
      input_schema: object({ id: S.name }, ["id"]),
      output_schema: DONE,
      write: true,
      handler: guard(toError, async ({ id }: { id: string }) => {
        await m.removeGraph(id);
        return { removed: true };
      }),
    },
    {
      name: "meta/nodes",
      description: "Nodes of a graph by key (of one type, after a key, up to a limit).",
      input_schema: object(
        {
          graph: S.name,
          type: S.name,
          after: S.text,
          limit: { type: "integer", minimum: 1, maximum: 10000 },
        },
        ["graph"],
      ),
      output_schema: { type: "array", items: NODE_OUT },
      handler: guard(
        toError,
        async (i: { graph: string; type?: string; after?: string; limit?: number }) =>
          (await m.listNodes(i.graph, { type: i.type, after: i.after, limit: i.limit })).map(
            nodeWire,
          ),
      ),
    },
    {
      name: "meta/node",
      description: "One node.",
      input_schema: object({ graph: S.name, key: S.text }, ["graph", "key"]),
      output_schema: NODE_OUT,
      handler: guard(toError, async ({ graph, key }: { graph: string; key: string }) => {
        const n = await m.getNode(graph, key);
        if (!n) throw toError("NOT_FOUND", `graph '${graph}' has no node '${key}'`);
        return nodeWire(n);
      }),
    },
    {
      name: "meta/add-node",
      description: "Adds a node; its attributes are validated against its type.",
      input_schema: object(
        { graph: S.name, key: S.text, type: S.name, attributes: S.attributes },
        ["graph", "key", "type"],
      ),
      output_schema: NODE_OUT,
      write: true,
      errors: ["EXISTS", "INVALID_ATTRIBUTES"],
      handler: guard(
        toError,
        async (
          i: { graph: string; key: string; type: string; attributes?: Record<string, unknown> },
        ) =>
          nodeWire(
            await m.addNode(i.graph, { key: i.key, type: i.type, attributes: i.attributes }),
          ),
      ),
    },
    {
      name: "meta/update-node",
      description: "Replaces a node's attributes (validated).",
      input_schema: object(
        { graph: S.name, key: S.text, attributes: S.attributes },
        ["graph", "key", "attributes"],
      ),
      output_schema: NODE_OUT,
      write: true,
      errors: ["INVALID_ATTRIBUTES"],
      handler: guard(
        toError,
        async (i: { graph: string; key: string; attributes: Record<string, unknown> }) =>
          nodeWire(await m.updateNode(i.graph, i.key, i.attributes)),
      ),
    },
    {
      name: "meta/remove-node",
      description: "Removes a node and its edges.",
      input_schema: object({ graph: S.name, key: S.text }, ["graph", "key"]),
      output_schema: DONE,
      write: true,
      handler: guard(toError, async ({ graph, key }: { graph: string; key: string }) => {
        await m.removeNode(graph, key);
        return { removed: true };
      }),
    },
    {
      name: "meta/edges",
      description: "Edges of a graph (of one type, from a source, to a target).",
      input_schema: object(
        { graph: S.name, type: S.name, source: S.text, target: S.text },
        ["graph"],
      ),
      output_schema: { type: "array", items: EDGE_OUT },
      handler: guard(
        toError,
        async (i: { graph: string; type?: string; source?: string; target?: string }) =>
          (await m.listEdges(i.graph, { type: i.type, source: i.source, target: i.target })).map(
            edgeWire,
          ),
      ),
    },
    {
      name: "meta/add-edge",
      description: "Adds an edge between two nodes whose types its edge type allows.",
      input_schema: object(
        { graph: S.name, type: S.name, source: S.text, target: S.text, attributes: S.attributes },
        ["graph", "type", "source", "target"],
      ),
      output_schema: EDGE_OUT,
      write: true,
      errors: ["EXISTS", "INVALID_ATTRIBUTES", "NOT_ALLOWED"],
      handler: guard(
        toError,
        async (i: {
          graph: string;
          type: string;
          source: string;
          target: string;
          attributes?: Record<string, unknown>;
        }) =>
          edgeWire(
            await m.addEdge(i.graph, {
              type: i.type,
              source: i.source,
              target: i.target,
              attributes: i.attributes,
            }),
          ),
      ),
    },
    {
      name: "meta/remove-edge",
      description: "Removes an edge.",
      input_schema: EDGE_KEY,
      output_schema: DONE,
      write: true,
      handler: guard(
        toError,
        async (i: { graph: string; type: string; source: string; target: string }) => {
          await m.removeEdge(i.graph, i.type, i.source, i.target);
          return { removed: true };
        },
      ),
    },
    {
      name: "meta/neighbours",
      description: "Nodes joined to a node (out, in or both), optionally through one edge type.",
      input_schema: object({
        graph: S.name,
        key: S.text,
        direction: { enum: ["out", "in", "both"] },
        edge_type: S.name,
      }, ["graph", "key"]),
      output_schema: { type: "array", items: { type: "object" } },
      handler: guard(
        toError,
        async (
          i: { graph: string; key: string; direction?: "out" | "in" | "both"; edge_type?: string },
        ) =>
          (await m.neighbours(i.graph, i.key, { direction: i.direction, edgeType: i.edge_type }))
            .map((n) => ({
              direction: n.direction,
              edge: edgeWire(n.edge),
              node: nodeWire(n.node),
            })),
      ),
    },
  ];
  return ops.map(({ write, errors: codes, ...op }) => ({
    ...op,
    type: write ? "mutation" : "query",
    errors: errors(...(codes ?? [])),
    access: { scopes_any: write ? WRITE : READ },
  }));
}
