import assert from "node:assert/strict";
import { type JsonSchemaLike, matchSchemas, type SchemaMatch } from "./schema_match.ts";

const obj = (props: Record<string, JsonSchemaLike>, req: string[] = [], extra = {}) => ({
  type: "object",
  properties: props,
  required: req,
  ...extra,
});
const str = { type: "string" };
const int = { type: "integer" };
const num = { type: "number" };

type Case = [
  name: string,
  output: JsonSchemaLike | undefined,
  input: JsonSchemaLike | undefined,
  SchemaMatch,
];

const cases: Case[] = [
  // unknown or absent schemas never make an edge
  ["absent input", obj({ id: str }, ["id"]), undefined, { kind: "unrelated" }],
  ["absent output", undefined, obj({ id: str }, ["id"]), { kind: "unrelated" }],
  ["true input", obj({ id: str }, ["id"]), true, { kind: "unrelated" }],
  ["empty input", obj({ id: str }, ["id"]), {}, { kind: "unrelated" }],
  ["false input", obj({ id: str }, ["id"]), false, { kind: "unrelated" }],
  ["$ref output", { $ref: "#/defs/x" }, obj({ id: str }), { kind: "unrelated" }],
  ["anyOf input", obj({ id: str }, ["id"]), { anyOf: [str, int] }, { kind: "unrelated" }],
  ["only a description", obj({ id: str }, ["id"]), { description: "x" }, { kind: "unrelated" }],
  // objects need a field name in common
  ["no shared field", obj({ a: str }, ["a"]), obj({ b: str }, ["b"]), { kind: "unrelated" }],
  ["opaque output object", { type: "object" }, obj({ id: str }, ["id"]), { kind: "unrelated" }],
  ["opaque input object", obj({ id: str }, ["id"]), { type: ["object", "null"] }, {
    kind: "unrelated",
  }],
  ["object vs string", obj({ id: str }, ["id"]), str, { kind: "unrelated" }],
  ["string vs boolean", str, { type: "boolean" }, { kind: "unrelated" }],
  // compatible
  ["same object", obj({ id: str }, ["id"]), obj({ id: str }, ["id"]), {
    kind: "compatible",
    fields: ["id"],
  }],
  ["extra output fields", obj({ id: str, name: str }, ["id", "name"]), obj({ id: str }, ["id"]), {
    kind: "compatible",
    fields: ["id"],
  }],
  ["optional input field provided", obj({ id: str, limit: int }, ["id"]), obj({ limit: num }), {
    kind: "compatible",
    fields: ["limit"],
  }],
  ["integer into number", int, num, { kind: "compatible", fields: [] }],
  ["same scalar", str, str, { kind: "compatible", fields: [] }],
  ["type list subset", { type: "string" }, { type: ["string", "null"] }, {
    kind: "compatible",
    fields: [],
  }],
  ["enum subset", { enum: ["a", "b"] }, { type: "string", enum: ["a", "b", "c"] }, {
    kind: "compatible",
    fields: [],
  }],
  ["const into enum", { const: "b" }, { enum: ["a", "b"] }, { kind: "compatible", fields: [] }],
  [
    "nested objects",
    obj({ user: obj({ id: str, n: int }, ["id", "n"]) }, ["user"]),
    obj({
      user: obj({ id: str }, ["id"]),
    }, ["user"]),
    { kind: "compatible", fields: ["user"] },
  ],
  [
    "arrays of items",
    obj({ tags: { type: "array", items: str } }, ["tags"]),
    obj({
      tags: { type: "array", items: { type: ["string", "number"] } },
    }),
    { kind: "compatible", fields: ["tags"] },
  ],
  [
    "array without items info",
    obj({ tags: { type: "array" } }, ["tags"]),
    obj({
      tags: { type: "array", items: str },
    }),
    { kind: "compatible", fields: ["tags"] },
  ],
  ["unknown nested output", obj({ x: {} }, ["x"]), obj({ x: int }, ["x"]), {
    kind: "compatible",
    fields: ["x"],
  }],
  ["unknown nested input", obj({ x: int }, ["x"]), obj({ x: { oneOf: [str] } }, ["x"]), {
    kind: "compatible",
    fields: ["x"],
  }],
  ["implied object type", { properties: { id: str }, required: ["id"] }, obj({ id: str }, ["id"]), {
    kind: "compatible",
    fields: ["id"],
  }],
  [
    "closed input, output within it",
    obj({ id: str }, ["id"]),
    obj({ id: str, x: int }, [], {
      additionalProperties: false,
    }),
    { kind: "compatible", fields: ["id"] },
  ],
  [
    "additionalProperties schema satisfied",
    obj({ id: str, n: int }, ["id"]),
    obj({ id: str }, [], {
      additionalProperties: num,
    }),
    { kind: "compatible", fields: ["id"] },
  ],
  // incompatible, with the reason
  ["field type mismatch", obj({ id: int }, ["id"]), obj({ id: str }, ["id"]), {
    kind: "incompatible",
    fields: ["id"],
    path: "/id",
    reason: "output may be integer; input accepts string",
  }],
  ["number into integer", obj({ n: num }, ["n"]), obj({ n: int }, ["n"]), {
    kind: "incompatible",
    fields: ["n"],
    path: "/n",
    reason: "output may be number; input accepts integer",
  }],
  [
    "required but optional in output",
    obj({ id: str, name: str }, ["id"]),
    obj({
      id: str,
      name: str,
    }, ["id", "name"]),
    {
      kind: "incompatible",
      fields: ["id", "name"],
      path: "/name",
      reason: "input requires name; output may omit it",
    },
  ],
  [
    "required and missing",
    obj({ id: str }, ["id"]),
    obj({ id: str, token: str }, ["id", "token"]),
    {
      kind: "incompatible",
      fields: ["id"],
      path: "/token",
      reason: "input requires token; output does not provide it",
    },
  ],
  [
    "nested mismatch",
    obj({ user: obj({ age: str }, ["age"]) }, ["user"]),
    obj({
      user: obj({ age: int }, ["age"]),
    }, ["user"]),
    {
      kind: "incompatible",
      fields: ["user"],
      path: "/user/age",
      reason: "output may be string; input accepts integer",
    },
  ],
  [
    "array items mismatch",
    obj({ ids: { type: "array", items: str } }, ["ids"]),
    obj({
      ids: { type: "array", items: int },
    }),
    {
      kind: "incompatible",
      fields: ["ids"],
      path: "/ids/*",
      reason: "output may be string; input accepts integer",
    },
  ],
  [
    "enum not a subset",
    obj({ mode: { enum: ["a", "z"] } }, ["mode"]),
    obj({
      mode: { enum: ["a", "b"] },
    }),
    {
      kind: "incompatible",
      fields: ["mode"],
      path: "/mode",
      reason: 'output may be "z"; input accepts only "a", "b"',
    },
  ],
  ["enum input, free output", obj({ mode: str }, ["mode"]), obj({ mode: { enum: ["a"] } }), {
    kind: "incompatible",
    fields: ["mode"],
    path: "/mode",
    reason: 'input accepts only "a"; output is not limited to them',
  }],
  [
    "closed input refuses extra field",
    obj({ id: str, secret: str }, ["id"]),
    obj({ id: str }, [], {
      additionalProperties: false,
    }),
    {
      kind: "incompatible",
      fields: ["id"],
      path: "/secret",
      reason: "input does not accept the field secret",
    },
  ],
  [
    "additionalProperties schema violated",
    obj({ id: str, n: str }, ["id"]),
    obj({ id: str }, [], {
      additionalProperties: num,
    }),
    {
      kind: "incompatible",
      fields: ["id"],
      path: "/n",
      reason: "output may be string; input accepts number",
    },
  ],
  [
    "nullable output into object",
    { ...obj({ id: str }, ["id"]), type: ["object", "null"] },
    obj({
      id: str,
    }, ["id"]),
    {
      kind: "incompatible",
      fields: ["id"],
      path: "",
      reason: "output may be null; input accepts object",
    },
  ],
  ["false nested input", obj({ x: str }, ["x"]), obj({ x: false }), {
    kind: "incompatible",
    fields: ["x"],
    path: "/x",
    reason: "input accepts nothing",
  }],
  ["field name needing escape", obj({ "a/b": str }, ["a/b"]), obj({ "a/b": int }), {
    kind: "incompatible",
    fields: ["a/b"],
    path: "/a~1b",
    reason: "output may be string; input accepts integer",
  }],
  [
    "enum of objects compared by value",
    obj({ v: { enum: [{ a: 1, b: 2 }] } }, ["v"]),
    obj({
      v: { enum: [{ b: 2, a: 1 }, null] },
    }),
    { kind: "compatible", fields: ["v"] },
  ],
  ["object enums without fields", { enum: [{ a: 1 }] }, { enum: [{ a: 1 }] }, {
    kind: "unrelated",
  }],
];

for (const [name, output, input, expected] of cases) {
  Deno.test(`schema match: ${name}`, () => {
    assert.deepEqual(matchSchemas(output, input), expected);
  });
}
