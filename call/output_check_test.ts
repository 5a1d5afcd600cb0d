import assert from "node:assert/strict";
import { CallConnection, memoryTransportPair, OperationRegistry } from "@alknet/call";
import type { ValidationIssue } from "./schema.ts";

function registryWith(mode: "error" | "warn" | "off", seen: [string, ValidationIssue[]][] = []) {
  const registry = new OperationRegistry({
    validateOutput: mode,
    onInvalidOutput: (name, issues) => void seen.push([name, issues]),
  });
  registry.register({
    name: "t/num",
    type: "query",
    output_schema: { type: "number" },
    handler: (x) => x,
  });
  registry.register({
    name: "t/items",
    type: "subscription",
    output_schema: { type: "object", properties: { n: { type: "integer" } }, required: ["n"] },
    subscribe: async function* (bad) {
      yield { n: 1 };
      yield bad;
      yield { n: 3 };
    },
  });
  return registry;
}

async function collect(it: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const x of it) out.push(x);
  return out;
}

Deno.test("output validation: error answers INTERNAL with the issues, for calls and items", async () => {
  const registry = registryWith("error");
  assert.equal(await registry.invoke("t/num", 5), 5);
  await assert.rejects(
    registry.invoke("t/num", "five"),
    (e: { code: string; details: unknown }) => {
      assert.equal(e.code, "INTERNAL");
      assert.equal((e.details as { errors: ValidationIssue[] }).errors[0].keyword, "type");
      return true;
    },
  );
  const got: unknown[] = [];
  await assert.rejects(async () => {
    for await (const x of registry.subscribe("t/items", { n: "two" })) got.push(x);
  }, { code: "INTERNAL" });
  assert.deepEqual(got, [{ n: 1 }]);
  // Over a connection the error travels as call.error.
  const [a, b] = memoryTransportPair();
  new CallConnection(a, { router: registry });
  const conn = new CallConnection(b);
  await assert.rejects(conn.call("t/num", [1]), { code: "INTERNAL" });
  assert.deepEqual(await collect(conn.subscribe("t/items", { n: 2 })), [{ n: 1 }, { n: 2 }, {
    n: 3,
  }]);
  await conn.close();
});

Deno.test("output validation: warn reports and sends, off does not check", async () => {
  const seen: [string, ValidationIssue[]][] = [];
  const warn = registryWith("warn", seen);
  assert.equal(await warn.invoke("t/num", "five"), "five");
  assert.deepEqual(await collect(warn.subscribe("t/items", "x")), [{ n: 1 }, "x", { n: 3 }]);
  assert.deepEqual(seen.map(([n]) => n), ["t/num", "t/items"]);
  const offSeen: [string, ValidationIssue[]][] = [];
  const off = registryWith("off", offSeen);
  assert.equal(await off.invoke("t/num", "five"), "five");
  assert.equal(offSeen.length, 0);
});
