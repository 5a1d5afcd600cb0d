import assert from "node:assert/strict";
import type { Identity } from "@alknet/core/auth";
import { CallConnection } from "./connection.ts";
import { CallError, RegistrationError } from "./errors.ts";
import { OperationRegistry } from "./registry.ts";
import { memoryTransportPair } from "./transport.ts";

const alice: Identity = { id: "alice", scopes: ["user"], resources: { vault: ["read"] } };

function wire(reg: OperationRegistry, identity: Identity | null) {
  const [a, b] = memoryTransportPair();
  const server = new CallConnection(a, { router: reg, identity });
  const client = new CallConnection(b);
  return {
    client,
    server,
    async close() {
      await client.close();
      await server.closed;
    },
  };
}

async function rejects(p: Promise<unknown>, code: string, message?: RegExp): Promise<CallError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof CallError, `expected CallError, got ${e}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail(`expected ${code}`);
}

Deno.test("registry: handler kind is checked against the operation type", () => {
  const reg = new OperationRegistry();
  assert.throws(
    () => reg.register({ name: "a/sub", type: "subscription", handler: () => 1 }),
    (e) => e instanceof RegistrationError && /INVALID_OPERATION_TYPE/.test(e.message),
  );
  assert.throws(
    () => reg.register({ name: "a/q", type: "query", subscribe: async function* () {} }),
    /INVALID_OPERATION_TYPE/,
  );
  assert.throws(
    () => reg.register({ name: "a/q", type: "query", handler: async function* () {} as never }),
    /INVALID_OPERATION_TYPE/,
  );
  assert.throws(
    () => reg.register({ name: "nope", type: "query", handler: () => 1 }),
    RegistrationError,
  );
  reg.register({ name: "a/q", type: "query", handler: () => 1 });
  assert.throws(() => reg.register({ name: "a/q", type: "query", handler: () => 1 }), /exists/);
  assert.throws(
    () =>
      reg.register({ name: "a/bad", type: "query", input_schema: { type: 12 }, handler: () => 1 }),
    /invalid schema/,
  );
});

Deno.test("dispatch order: internal from the wire is NOT_FOUND before any access check", async () => {
  const reg = new OperationRegistry();
  let ran = 0;
  reg.register({
    name: "sec/internal",
    type: "query",
    visibility: "internal",
    access: { scopes_all: ["admin"] },
    input_schema: { type: "string" },
    handler: () => ran++,
  });
  reg.register({
    name: "sec/admin",
    type: "query",
    access: { scopes_all: ["admin", "ops"] },
    input_schema: { type: "string" },
    handler: () => ran++,
  });
  reg.register({
    name: "sec/any",
    type: "query",
    access: { scopes_any: ["admin", "ops"] },
    handler: () => ran++,
  });
  reg.register({
    name: "sec/vault",
    type: "query",
    access: { resource_type: "vault", resource_action: "write" },
    handler: () => ran++,
  });
  reg.register({
    name: "sec/typed",
    type: "query",
    access: { scopes_all: ["user"] },
    input_schema: { type: "object", properties: { n: { type: "integer" } }, required: ["n"] },
    handler: ({ n }: { n: number }) => n * 2,
  });
  const w = wire(reg, alice);
  try {
    await rejects(w.client.call("sec/missing", 1), "NOT_FOUND");
    // Bad input and missing scopes, but internal: NOT_FOUND wins.
    await rejects(w.client.call("sec/internal", 42), "NOT_FOUND", /no such operation/);
    // Bad input and missing scopes: FORBIDDEN before INVALID_INPUT.
    await rejects(w.client.call("sec/admin", 42), "FORBIDDEN", /missing \[admin, ops\]/);
    await rejects(w.client.call("sec/any", null), "FORBIDDEN", /one of the scopes \[admin, ops\]/);
    await rejects(w.client.call("sec/vault", null), "FORBIDDEN", /resource vault:write/);
    const e = await rejects(w.client.call("sec/typed", { n: "x" }), "INVALID_INPUT");
    assert.deepEqual(e.details, {
      errors: [{ path: "/n", keyword: "type", message: "must be integer" }],
    });
    assert.equal(ran, 0);
    assert.equal(await w.client.call("sec/typed", { n: 21 }), 42);
    // Internal operations stay reachable in-process.
    assert.equal(
      await reg.invoke("sec/internal", "x", {
        identity: { id: "r", scopes: ["admin"], resources: {} },
      }),
      0,
    );
  } finally {
    await w.close();
  }
});

Deno.test("dispatch: unauthenticated callers only reach open operations", async () => {
  const reg = new OperationRegistry();
  reg.register({ name: "open/x", type: "query", handler: () => "ok" });
  reg.register({
    name: "closed/x",
    type: "query",
    access: { scopes_any: ["user"] },
    handler: () => "ok",
  });
  const w = wire(reg, null);
  try {
    assert.equal(await w.client.call("open/x", null), "ok");
    await rejects(w.client.call("closed/x", null), "FORBIDDEN", /authenticated/);
  } finally {
    await w.close();
  }
});

Deno.test("errors: declared codes pass, undeclared become INTERNAL with the original code", async () => {
  const reg = new OperationRegistry();
  reg.register<{ code: string; details?: unknown }, never>({
    name: "shop/buy",
    type: "mutation",
    errors: [
      {
        code: "OUT_OF_STOCK",
        retryable: true,
        details_schema: {
          type: "object",
          properties: { sku: { type: "string" } },
          required: ["sku"],
        },
      },
      { code: "CLOSED" },
    ],
    handler: ({ code, details }) => {
      if (code === "crash") throw new TypeError("boom");
      throw new CallError(code, `failed with ${code}`, { details });
    },
  });
  const w = wire(reg, null);
  try {
    const a = await rejects(
      w.client.call("shop/buy", { code: "OUT_OF_STOCK", details: { sku: "w" } }),
      "OUT_OF_STOCK",
    );
    assert.deepEqual(a.details, { sku: "w" });
    assert.equal(a.retryable, true);
    const c = await rejects(w.client.call("shop/buy", { code: "CLOSED" }), "CLOSED");
    assert.equal(c.details, undefined);
    const u = await rejects(
      w.client.call("shop/buy", { code: "WEIRD" }),
      "INTERNAL",
      /undeclared error code WEIRD/,
    );
    assert.deepEqual(u.details, { original_code: "WEIRD", original_message: "failed with WEIRD" });
    const bad = await rejects(
      w.client.call("shop/buy", { code: "OUT_OF_STOCK", details: { nope: 1 } }),
      "INTERNAL",
      /do not match/,
    );
    assert.equal((bad.details as { original_code: string }).original_code, "OUT_OF_STOCK");
    const crash = await rejects(w.client.call("shop/buy", { code: "crash" }), "INTERNAL");
    assert.equal(crash.message, "internal error in shop/buy");
    // Protocol codes from a handler pass through.
    await rejects(w.client.call("shop/buy", { code: "NOT_FOUND" }), "NOT_FOUND");
  } finally {
    await w.close();
  }
});

Deno.test("discovery: list filters internal and forbidden ops; schema hides internal", async () => {
  const reg = new OperationRegistry();
  reg.register({ name: "d/pub", type: "query", description: "public", handler: () => 1 });
  reg.register({ name: "d/hidden", type: "query", visibility: "internal", handler: () => 1 });
  reg.register({
    name: "d/admin",
    type: "query",
    access: { scopes_all: ["admin"] },
    handler: () => 1,
  });
  reg.register({ name: "d/stream", type: "subscription", subscribe: async function* () {} });
  const w = wire(reg, alice);
  try {
    const list = await w.client.call<{ operations: { name: string; type: string }[] }>(
      "services/list",
      {},
    );
    const names = list.operations.map((o) => o.name);
    assert.deepEqual(names, [
      "d/pub",
      "d/stream",
      "services/list",
      "services/list-peers",
      "services/schema",
    ]);
    const spec = await w.client.call<{ name: string; type: string }>("services/schema", {
      name: "d/stream",
    });
    assert.equal(spec.type, "subscription");
    await rejects(w.client.call("services/schema", { name: "d/hidden" }), "NOT_FOUND");
    await rejects(w.client.call("services/schema", {}), "INVALID_INPUT");
    assert.deepEqual(await w.client.call("services/list-peers", {}), { peers: [] });
  } finally {
    await w.close();
  }
});

Deno.test("composition: allow list and declared authority", async () => {
  const reg = new OperationRegistry();
  reg.register({
    name: "vault/derive",
    type: "query",
    visibility: "internal",
    access: { scopes_all: ["vault:derive"] },
    handler: (_i, ctx) => `derived with ${ctx.capabilities.seed}`,
    capabilities: { seed: "s3cret" },
  });
  reg.register({
    name: "misc/other",
    type: "query",
    visibility: "internal",
    handler: () => "other",
  });
  reg.register({
    name: "app/sign",
    type: "query",
    allow: ["vault/*"],
    authority: { scopes: ["vault:derive"] },
    handler: (_i, ctx) => ctx.env.invoke("vault/derive", null),
  });
  reg.register({
    name: "app/no-authority",
    type: "query",
    allow: ["vault/derive"],
    handler: (_i, ctx) => ctx.env.invoke("vault/derive", null),
  });
  reg.register({
    name: "app/sneaky",
    type: "query",
    allow: ["vault/*"],
    handler: (_i, ctx) => ctx.env.invoke("misc/other", null),
  });
  const w = wire(reg, alice);
  try {
    assert.equal(await w.client.call("app/sign", null), "derived with s3cret");
    await rejects(w.client.call("app/no-authority", null), "FORBIDDEN", /vault:derive/);
    await rejects(w.client.call("app/sneaky", null), "FORBIDDEN", /not in its allow list/);
    const spec = await w.client.call<Record<string, unknown>>("services/schema", {
      name: "app/sign",
    });
    assert.equal(JSON.stringify(spec).includes("s3cret"), false);
  } finally {
    await w.close();
  }
});
