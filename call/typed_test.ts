// Typed operations: TypeBox and `as const` schemas type handlers and clients;
// the `@ts-expect-error` lines are the type tests (`deno check`/`deno test`
// fail with "Unused '@ts-expect-error' directive" if a misuse type-checks).
import assert from "node:assert/strict";
import { Type } from "@sinclair/typebox";
import {
  CallClient,
  CallConnection,
  memoryTransportPair,
  operation,
  OperationRegistry,
  type SchemaType,
  typedApi,
} from "@alknet/call";

const add = operation({
  name: "math/add",
  type: "query",
  input_schema: Type.Object({ a: Type.Number(), b: Type.Number() }),
  output_schema: Type.Number(),
});
const concat = operation({
  name: "text/concat",
  type: "mutation",
  input_schema: {
    type: "object",
    properties: { parts: { type: "array", items: { type: "string" } }, sep: { type: "string" } },
    required: ["parts"],
    additionalProperties: false,
  },
  output_schema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
});
const ticks = operation({
  name: "math/ticks",
  type: "subscription",
  input_schema: Type.Object({ count: Type.Integer(), label: Type.Optional(Type.String()) }),
  output_schema: { type: "object", properties: { n: { type: "integer" } }, required: ["n"] },
});
const untyped = operation({ name: "any/thing", type: "query" });

function pair(registry: OperationRegistry): CallConnection {
  const [a, b] = memoryTransportPair();
  new CallConnection(a, { router: registry });
  return new CallConnection(b);
}

Deno.test("typed: SchemaType of as-const JSON Schemas", () => {
  const s = {
    type: "object",
    properties: {
      id: { type: "integer" },
      tags: { type: "array", items: { type: "string" } },
      kind: { enum: ["a", "b"] },
      maybe: { type: ["string", "null"] },
      fixed: { const: 7 },
      either: { anyOf: [{ type: "string" }, { type: "boolean" }] },
    },
    required: ["id", "kind"],
  } as const;
  type T = SchemaType<typeof s>;
  const ok: T = { id: 1, kind: "a", tags: ["x"], maybe: null, fixed: 7, either: true };
  // @ts-expect-error kind must be "a" or "b"
  const badKind: T = { id: 1, kind: "c" };
  // @ts-expect-error id is required
  const missing: T = { kind: "a" };
  // @ts-expect-error tags are strings
  const badTags: T = { id: 1, kind: "b", tags: [1] };
  assert.equal(ok.id + (badKind.id ?? 0) + (missing.id ?? 0) + badTags.id, 3);
  const anything: SchemaType<{ [key: string]: unknown }> = 42;
  assert.equal(anything, 42);
});

Deno.test("typed: one declaration types the handler, CallClient.call and typedApi", async () => {
  const registry = new OperationRegistry({ validateOutput: "error" });
  registry.register(add.implement(({ a, b }) => a + b));
  registry.register(
    concat.implement(({ parts, sep }) => ({ text: parts.join(sep ?? "") })),
  );
  registry.register(ticks.implement(async function* ({ count }) {
    for (let n = 1; n <= count; n++) yield { n };
  }));
  registry.register(untyped.implement((x) => x));
  // @ts-expect-error the handler must return a number
  add.implement(({ a }) => `${a}`);
  // @ts-expect-error a query takes a call handler, not a generator
  add.implement(async function* () {
    yield 1;
  });
  // @ts-expect-error the input has no field c
  add.implement(({ c }) => c);

  const conn = pair(registry);
  try {
    const client = new CallClient(conn);
    const sum: number = await client.call(add, { a: 2, b: 3 });
    assert.equal(sum, 5);
    // @ts-expect-error b must be a number
    await client.call(add, { a: 2, b: "3" }).catch(() => {});
    // @ts-expect-error a subscription cannot be called
    await client.call(ticks, { count: 1 }).catch(() => {});
    // @ts-expect-error the result is a number, not a string
    const wrong: string = await client.call(add, { a: 1, b: 1 });
    assert.equal(wrong, 2);
    const joined = await client.call(concat, { parts: ["a", "b"], sep: "-" });
    assert.equal(joined.text, "a-b");
    // @ts-expect-error additionalProperties: false
    await client.call(concat, { parts: [], extra: 1 }).catch(() => {});

    const items: number[] = [];
    for await (const t of client.subscribe(ticks, { count: 3 })) items.push(t.n);
    assert.deepEqual(items, [1, 2, 3]);

    const api = typedApi(conn, { math: { add, ticks }, text: { concat } });
    assert.equal(await api.math.add({ a: 40, b: 2 }), 42);
    // @ts-expect-error missing b
    await api.math.add({ a: 1 }).catch(() => {});
    const seen: number[] = [];
    for await (const t of api.math.ticks({ count: 2, label: "x" })) seen.push(t.n);
    assert.deepEqual(seen, [1, 2]);
    assert.equal(
      (await client.typed({ text: { concat } }).text.concat({ parts: ["z"] })).text,
      "z",
    );
    assert.equal(await client.call(untyped, { whatever: true }).then(() => "ok"), "ok");
    // Plain names still work.
    assert.equal(await client.call<number>("math/add", { a: 1, b: 1 }), 2);
    // The runtime still validates: a bad input sent by name is INVALID_INPUT.
    await assert.rejects(client.call("math/add", { a: "x", b: 1 }), { code: "INVALID_INPUT" });
  } finally {
    await conn.close();
  }
});
