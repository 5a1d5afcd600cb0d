// Operation specs shared by the tests and bench/flowgraph.ts.
import type { OperationSpecLike } from "../operations.ts";

const id: OperationSpecLike["input_schema"] = {
  type: "object",
  properties: { id: { type: "string" } },
  required: ["id"],
};
const user: OperationSpecLike["output_schema"] = {
  type: "object",
  properties: { id: { type: "string" }, name: { type: "string" }, age: { type: "integer" } },
  required: ["id", "name", "age"],
};

/** A small service (its edges are hand-checked in operations_test.ts). */
export const SPECS: OperationSpecLike[] = [
  {
    name: "users/create",
    type: "mutation",
    input_schema: {
      type: "object",
      properties: { name: { type: "string" }, age: { type: "integer" } },
      required: ["name"],
    },
    output_schema: id,
  },
  { name: "users/get", type: "query", input_schema: id, output_schema: user },
  {
    name: "users/rename",
    type: "mutation",
    input_schema: {
      type: "object",
      properties: { id: { type: "string" }, name: { type: "string" } },
      required: ["id", "name"],
      additionalProperties: false,
    },
    output_schema: { type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"] },
  },
  {
    name: "legacy/lookup",
    type: "query",
    input_schema: { type: "object", properties: { id: { type: "integer" } }, required: ["id"] },
    output_schema: {},
  },
  { name: "node/ping", type: "query", input_schema: {}, output_schema: {} },
  {
    name: "node/ticks",
    type: "subscription",
    input_schema: { type: "object", properties: { count: { type: "integer" } } },
    output_schema: { type: "object", properties: { n: { type: "integer" } }, required: ["n"] },
  },
];

/** Names that break naive escaping in DOT, Mermaid or XML. */
export const TRICKY: OperationSpecLike[] = [
  { name: 'weird/"quoted"\\back', type: "query", input_schema: id, output_schema: id },
  { name: "amp/&lt;not-an-entity& <tag>", type: "mutation", output_schema: id },
  { name: "uni/日本語 é", type: "subscription", input_schema: id },
  { name: "hash/#35; |pipe| `tick`", input_schema: id, description: "a 'quoted' description" },
  { name: "brace/{x} [y] (z); a -> b", type: "query", output_schema: id, peer: "w-1" },
];

/**
 * `n` generated operations with a sparse graph (about 1.3 edges per
 * operation, one in five of them incompatible), like a real service mesh.
 */
export function manyOperations(n: number): OperationSpecLike[] {
  const fields = Math.max(1, Math.round(n * 0.75));
  const specs: OperationSpecLike[] = [];
  for (let i = 0; i < n; i++) {
    const input = `f${i % fields}`;
    const output = `f${(i * 7 + 3) % fields}`;
    specs.push({
      name: `svc${i % 10}/op${i}`,
      type: i % 3 === 0 ? "query" : i % 3 === 1 ? "mutation" : "subscription",
      input_schema: {
        type: "object",
        properties: { [input]: { type: "string" } },
        required: [input],
      },
      output_schema: {
        type: "object",
        properties: { [output]: { type: i % 5 === 0 ? "integer" : "string" } },
        required: [output],
      },
    });
  }
  return specs;
}
