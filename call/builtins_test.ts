import assert from "node:assert/strict";
import { nodeOperations } from "@alknet/core/ssh";
import { registerNodeOperations } from "./builtins.ts";
import { CallConnection } from "./connection.ts";
import type { CallError } from "./errors.ts";
import { OperationRegistry } from "./registry.ts";
import { memoryTransportPair } from "./transport.ts";

function setup() {
  const reg = new OperationRegistry();
  registerNodeOperations(reg, {
    version: "9.9.9",
    fingerprint: "SHA256:node",
    listeners: ["tls://127.0.0.1:8443", "ws://127.0.0.1:8080"],
    startedAt: new Date(Date.now() - 5_000),
  });
  const [a, b] = memoryTransportPair();
  new CallConnection(a, { router: reg });
  return new CallConnection(b);
}

Deno.test("builtins: node/info, node/ping", async () => {
  const conn = setup();
  const info = await conn.call<Record<string, unknown>>("node/info", {});
  assert.deepEqual(info, {
    version: "9.9.9",
    uptime_s: info.uptime_s,
    fingerprint: "SHA256:node",
    listeners: ["tls://127.0.0.1:8443", "ws://127.0.0.1:8080"],
  });
  assert.ok((info.uptime_s as number) >= 4);
  assert.deepEqual(await conn.call("node/ping", { a: [1, "b", null] }), { a: [1, "b", null] });
  assert.equal(await conn.call("node/ping", null), null);
  await conn.close();
});

Deno.test("builtins: node/ticks validates input and honours abort", async () => {
  const conn = setup();
  for (
    const bad of [{}, { count: -1 }, { count: 1, interval_ms: "x" }, { count: 1, extra: true }]
  ) {
    await assert.rejects(async () => {
      for await (const _ of conn.subscribe("node/ticks", bad)) { /* nothing */ }
    }, (e: CallError) => e.code === "INVALID_INPUT");
  }
  const got: unknown[] = [];
  for await (const t of conn.subscribe("node/ticks", { count: 0 })) got.push(t);
  assert.deepEqual(got, []);
  // A long interval: aborting must not wait for the next tick.
  const ac = new AbortController();
  const sub = conn.subscribe("node/ticks", { count: 5, interval_ms: 60_000 }, {
    signal: ac.signal,
  });
  const items: unknown[] = [];
  const done = (async () => {
    for await (const t of sub) {
      items.push(t);
      ac.abort();
    }
  })();
  await assert.rejects(done, (e: Error) => e.name === "AbortError");
  assert.deepEqual(items, [{ n: 1 }]);
  await conn.close();
});

Deno.test("builtins: the same definitions as core's nodeOperations; listeners read at each call", async () => {
  const reg = new OperationRegistry();
  const listeners: string[] = [];
  registerNodeOperations(reg, { version: "1", listeners });
  const core = nodeOperations({ version: "1" });
  for (const op of core) {
    const spec = reg.spec(op.name);
    assert.ok(spec, op.name);
    assert.equal(spec.type, op.type);
    assert.equal(spec.description, op.description);
    assert.deepEqual(spec.input_schema, op.input_schema ?? {});
    assert.deepEqual(spec.output_schema, op.output_schema ?? {});
  }
  listeners.push("tcp://127.0.0.1:1");
  const info = await reg.invoke("node/info", null) as Record<string, unknown>;
  assert.deepEqual(info, {
    version: "1",
    uptime_s: info.uptime_s,
    fingerprint: null,
    listeners: ["tcp://127.0.0.1:1"],
  });
});
