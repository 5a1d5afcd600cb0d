/**
 * The operation graph: one node per operation, an edge A → B when A's output
 * can feed B's input ({@link matchSchemas}); incompatible edges carry the
 * reason. Built from the specs `services/list` and `services/schema` return.
 *
 * @module
 */

import { FlowgraphError } from "./errors.ts";
import { FlowGraph } from "./graph.ts";
import type { FlowGraphJSON } from "./json.ts";
import { type JsonSchemaLike, matchSchemas } from "./schema_match.ts";

/**
 * The fields of an alknet `OperationSpec` (`@alknet/call`) that the
 * operation graph reads; a full spec fits. `peer` names the node an operation
 * lives on when specs from several nodes are drawn together.
 *
 * @example
 * ```ts
 * import type { OperationSpecLike } from "@alknet/flowgraph";
 * const spec: OperationSpecLike = {
 *   name: "users/get", type: "query", visibility: "external",
 *   input_schema: { type: "object", properties: { id: { type: "string" } }, required: ["id"] },
 *   output_schema: { type: "object", properties: { id: { type: "string" }, name: { type: "string" } } },
 * };
 * ```
 */
export interface OperationSpecLike {
  /** `ns/op`. */
  name: string;
  /** Query, mutation or subscription. */
  type?: "query" | "mutation" | "subscription";
  /** External or internal. */
  visibility?: "external" | "internal";
  /** JSON Schema of the input. */
  input_schema?: JsonSchemaLike;
  /** JSON Schema of the output (of each item, for subscriptions). */
  output_schema?: JsonSchemaLike;
  /** What it does. */
  description?: string;
  /** The node it lives on, when drawing several nodes. */
  peer?: string;
}

/**
 * A node of the operation graph (the spec without its schemas).
 *
 * @example
 * ```ts
 * import type { OperationNode } from "@alknet/flowgraph";
 * const n: OperationNode = { name: "users/get", type: "query" };
 * ```
 */
export interface OperationNode {
  /** `ns/op`. */
  name: string;
  /** Query, mutation or subscription. */
  type?: "query" | "mutation" | "subscription";
  /** External or internal. */
  visibility?: "external" | "internal";
  /** What it does. */
  description?: string;
  /** The node it lives on. */
  peer?: string;
}

/**
 * An edge of the operation graph: the source's output feeds the target's
 * input (`compatible`), or shares field names with it but does not fit
 * (`compatible: false`, with `path` into the input schema and `reason`).
 *
 * @example
 * ```ts
 * import type { OperationEdge } from "@alknet/flowgraph";
 * const e: OperationEdge = { compatible: false, fields: ["id"], path: "/id", reason: "output may be integer; input accepts string" };
 * ```
 */
export interface OperationEdge {
  /** True when every output value satisfies the input schema. */
  compatible: boolean;
  /** Property names the output and input share (empty for non-object schemas). */
  fields: string[];
  /** Where it does not fit (a JSON Pointer into the input), for incompatible edges. */
  path?: string;
  /** Why it does not fit, for incompatible edges. */
  reason?: string;
}

/**
 * The operation graph: keys are {@link operationKey}s. It may have cycles
 * (two operations can feed each other).
 *
 * @example
 * ```ts
 * import type { OperationGraph } from "@alknet/flowgraph";
 * import { buildOperationGraph } from "@alknet/flowgraph";
 * const g: OperationGraph = buildOperationGraph([]);
 * console.log(g.nodeCount); // 0
 * ```
 */
export type OperationGraph = FlowGraph<OperationNode, OperationEdge>;

/**
 * The operation graph as JSON: what a node's `flow/operations` returns.
 *
 * @example
 * ```ts
 * import type { OperationGraphJSON } from "@alknet/flowgraph";
 * const j: OperationGraphJSON = { acyclic: false, nodes: [], edges: [] };
 * ```
 */
export type OperationGraphJSON = FlowGraphJSON<OperationNode, OperationEdge>;

/**
 * Options of {@link buildOperationGraph}.
 *
 * @example
 * ```ts
 * import type { OperationGraphOptions } from "@alknet/flowgraph";
 * const opts: OperationGraphOptions = { incompatible: false };
 * ```
 */
export interface OperationGraphOptions {
  /** Keep incompatible edges (default true). */
  incompatible?: boolean;
}

/**
 * The graph key of an operation: its name, or `name@peer` when it names a
 * peer.
 *
 * @example
 * ```ts
 * import { operationKey } from "@alknet/flowgraph";
 * console.log(operationKey({ name: "users/get" })); // "users/get"
 * console.log(operationKey({ name: "users/get", peer: "worker-1" })); // "users/get@worker-1"
 * ```
 */
export function operationKey(spec: Pick<OperationSpecLike, "name" | "peer">): string {
  return spec.peer === undefined ? spec.name : `${spec.name}@${spec.peer}`;
}

/**
 * Builds the operation graph: a node per spec, an edge for every ordered
 * pair whose schemas match (an operation is never linked to itself). Two
 * specs with the same key are `DUPLICATE_OPERATION`; a spec without a name
 * is `INVALID_SPEC`.
 *
 * @example
 * ```ts
 * import { buildOperationGraph } from "@alknet/flowgraph";
 * const id = { type: "object", properties: { id: { type: "string" } }, required: ["id"] };
 * const g = buildOperationGraph([
 *   { name: "users/create", input_schema: { type: "object", properties: { name: { type: "string" } } }, output_schema: id },
 *   { name: "users/get", input_schema: id, output_schema: { type: "object", properties: { id: { type: "string" }, name: { type: "string" } } } },
 * ]);
 * console.log(g.edges().map((e) => `${e.source} → ${e.target} ${e.attributes.compatible}`));
 * // ["users/create → users/get true", "users/get → users/create true"]
 * ```
 */
export function buildOperationGraph(
  specs: Iterable<OperationSpecLike>,
  options: OperationGraphOptions = {},
): OperationGraph {
  const keepIncompatible = options.incompatible ?? true;
  const g: OperationGraph = new FlowGraph<OperationNode, OperationEdge>();
  const list: [string, OperationSpecLike][] = [];
  for (const spec of specs) {
    if (typeof spec?.name !== "string" || spec.name === "") {
      throw new FlowgraphError("INVALID_SPEC", "operation spec without a name");
    }
    const key = operationKey(spec);
    if (g.hasNode(key)) {
      throw new FlowgraphError("DUPLICATE_OPERATION", `operation ${key} is listed twice`, { key });
    }
    g.addNode(key, nodeOf(spec));
    list.push([key, spec]);
  }
  for (const [from, a] of list) {
    for (const [to, b] of list) {
      if (from === to) continue;
      const m = matchSchemas(a.output_schema, b.input_schema);
      if (m.kind === "compatible") {
        g.addEdge(from, to, { compatible: true, fields: m.fields });
      } else if (m.kind === "incompatible" && keepIncompatible) {
        g.addEdge(from, to, {
          compatible: false,
          fields: m.fields,
          path: m.path,
          reason: m.reason,
        });
      }
    }
  }
  return g;
}

function nodeOf(spec: OperationSpecLike): OperationNode {
  const n: OperationNode = { name: spec.name };
  if (spec.type !== undefined) n.type = spec.type;
  if (spec.visibility !== undefined) n.visibility = spec.visibility;
  if (spec.description !== undefined) n.description = spec.description;
  if (spec.peer !== undefined) n.peer = spec.peer;
  return n;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const TYPES = ["query", "mutation", "subscription"];
const VISIBILITIES = ["external", "internal"];

/**
 * Checks that a value (e.g. what `services/schema` answered) has the shape
 * of an operation spec; `INVALID_SPEC` naming the first problem. Unknown
 * fields are dropped.
 *
 * @example
 * ```ts
 * import { checkOperationSpec } from "@alknet/flowgraph";
 * const spec = checkOperationSpec({ name: "node/ping", type: "query", errors: [], access: {} });
 * console.log(spec); // { name: "node/ping", type: "query" }
 * ```
 */
export function checkOperationSpec(value: unknown): OperationSpecLike {
  const fail = (what: string): never => {
    throw new FlowgraphError("INVALID_SPEC", `operation spec: ${what}`);
  };
  if (!isRecord(value)) return fail("not an object");
  const { name, type, visibility, input_schema, output_schema, description, peer } = value;
  if (typeof name !== "string" || name === "") return fail("name is not a non-empty string");
  const spec: OperationSpecLike = { name };
  if (type !== undefined) {
    if (typeof type !== "string" || !TYPES.includes(type)) return fail(`${name}: bad type`);
    spec.type = type as OperationSpecLike["type"];
  }
  if (visibility !== undefined) {
    if (typeof visibility !== "string" || !VISIBILITIES.includes(visibility)) {
      return fail(`${name}: bad visibility`);
    }
    spec.visibility = visibility as OperationSpecLike["visibility"];
  }
  const schema = (v: unknown, field: string): JsonSchemaLike | undefined => {
    if (v === undefined || typeof v === "boolean" || isRecord(v)) return v;
    return fail(`${name}: ${field} is not a schema`);
  };
  const input = schema(input_schema, "input_schema");
  const output = schema(output_schema, "output_schema");
  if (input !== undefined) spec.input_schema = input;
  if (output !== undefined) spec.output_schema = output;
  if (description !== undefined) {
    if (typeof description !== "string") return fail(`${name}: description is not a string`);
    spec.description = description;
  }
  if (peer !== undefined) {
    if (typeof peer !== "string") return fail(`${name}: peer is not a string`);
    spec.peer = peer;
  }
  return spec;
}

/**
 * Calls one operation on a node (e.g. `(op, input) => connection.call(op, input)`
 * with `@alknet/call`).
 *
 * @example
 * ```ts
 * import type { Invoke } from "@alknet/flowgraph";
 * const invoke: Invoke = async (_op, _input) => ({ operations: [] });
 * ```
 */
export type Invoke = (operation: string, input: unknown) => Promise<unknown>;

/**
 * Fetches the specs of every operation a node lists: `services/list`, then
 * `services/schema` for each (at most 8 at a time). An operation that
 * disappears in between (its schema answers an error with code `NOT_FOUND`)
 * is left out; other errors are thrown as they come.
 *
 * @example
 * ```ts
 * import { buildOperationGraph, loadOperationSpecs } from "@alknet/flowgraph";
 * const specs = { "node/ping": { name: "node/ping", type: "query", input_schema: {}, output_schema: {} } };
 * const invoke = async (op: string, input: unknown) =>
 *   op === "services/list"
 *     ? { operations: [{ name: "node/ping", type: "query" }] }
 *     : specs[(input as { name: "node/ping" }).name];
 * const graph = buildOperationGraph(await loadOperationSpecs(invoke));
 * console.log(graph.nodes()); // ["node/ping"]
 * ```
 */
export async function loadOperationSpecs(invoke: Invoke): Promise<OperationSpecLike[]> {
  const listed = await invoke("services/list", {});
  if (!isRecord(listed) || !Array.isArray(listed.operations)) {
    throw new FlowgraphError("INVALID_SPEC", "services/list did not answer {operations: [...]}");
  }
  const names = listed.operations.map((o) => {
    if (!isRecord(o) || typeof o.name !== "string") {
      throw new FlowgraphError("INVALID_SPEC", "services/list listed an operation without a name");
    }
    return o.name;
  });
  const specs: (OperationSpecLike | undefined)[] = new Array(names.length);
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const i = next++;
      try {
        specs[i] = checkOperationSpec(await invoke("services/schema", { name: names[i] }));
      } catch (e) {
        if (isRecord(e) && e.code === "NOT_FOUND") continue;
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, names.length) }, worker));
  return specs.filter((s): s is OperationSpecLike => s !== undefined);
}
