import assert from "node:assert/strict";
import { SchemaCache } from "../metagraph_schema.ts";
import { openStore } from "../store.ts";
import { storageOperations } from "./mod.ts";
import type { OperationContext, StorageOperation } from "./common.ts";

class TestCallError extends Error {
  constructor(readonly code: string, message: string, readonly details?: unknown) {
    super(message);
  }
}

function ctx(scopes: string[], signal = new AbortController().signal): OperationContext {
  return { identity: { id: "tester", scopes }, signal };
}

function finder(ops: StorageOperation[]) {
  return (name: string) => {
    const op = ops.find((o) => o.name === name);
    assert.ok(op, name);
    return op;
  };
}

Deno.test("ops: every operation is declared, guarded and has valid schemas", async () => {
  const store = await openStore(":memory:");
  try {
    const ops = storageOperations(store);
    const names = ops.map((o) => o.name);
    assert.equal(new Set(names).size, names.length, "names are unique");
    for (const family of ["peers/", "credentials/", "meta/", "streams/"]) {
      assert.ok(names.some((n) => n.startsWith(family)), family);
    }
    const cache = new SchemaCache();
    for (const op of ops) {
      assert.ok(op.access.scopes_any.length > 0, `${op.name} requires a scope`);
      assert.ok(op.description.length > 0);
      cache.validator(op.input_schema);
      cache.validator(op.output_schema);
      assert.ok(op.type === "subscription" ? op.subscribe : op.handler, op.name);
      assert.ok(op.errors.every((e) => e && e.code), `${op.name} declares its errors`);
      // A consumer commits its own offset with read rights; every other write needs a write scope.
      if (op.type === "mutation" && op.name !== "streams/commit") {
        assert.ok(op.access.scopes_any.every((s) => !s.endsWith(":read")), `${op.name} is a write`);
      }
    }
    assert.ok(
      !JSON.stringify(find(ops, "credentials/list").output_schema).includes('"data"'),
      "credential blobs never leave",
    );
  } finally {
    await store.close();
  }
});

function find(ops: StorageOperation[], name: string): StorageOperation {
  return finder(ops)(name);
}

Deno.test("ops: handlers work and map store errors to call codes", async () => {
  const store = await openStore(":memory:");
  try {
    const op = finder(storageOperations(store, {
      toError: (code, message, details) => new TestCallError(code, message, details),
    }));
    const admin = ctx(["*"]);
    const peer = await op("peers/add").handler!(
      { peer_id: "alice", scopes: ["relay:connect"] },
      admin,
    );
    assert.equal((peer as { peer_id: string }).peer_id, "alice");
    await assert.rejects(
      op("peers/add").handler!({ peer_id: "alice" }, admin),
      (e) => e instanceof TestCallError && e.code === "EXISTS",
    );
    await assert.rejects(
      op("peers/get").handler!({ peer_id: "bob" }, admin),
      (e) => e instanceof TestCallError && e.code === "NOT_FOUND",
    );
    const disabled = await op("peers/disable").handler!({ peer_id: "alice" }, admin);
    assert.equal((disabled as { enabled: boolean }).enabled, false);

    await op("meta/define-type").handler!({
      name: "t",
      nodeTypes: [{
        name: "n",
        schema: { type: "object", properties: { x: { type: "integer" } } },
      }],
    }, admin);
    await op("meta/create-graph").handler!({ id: "g", type: "t" }, admin);
    await assert.rejects(
      op("meta/add-node").handler!(
        { graph: "g", key: "a", type: "n", attributes: { x: "1" } },
        admin,
      ),
      (e) =>
        e instanceof TestCallError && e.code === "INVALID_ATTRIBUTES" &&
        JSON.stringify(e.details) ===
          JSON.stringify({ issues: [{ path: "/x", message: "must be integer" }] }),
    );

    await store.credentials.set("db", { key_version: 2, salt: "", iv: "", data: "AAAA" });
    const creds = await op("credentials/list").handler!({}, admin);
    assert.deepEqual(Object.keys((creds as object[])[0]).sort(), [
      "created_at",
      "key_version",
      "name",
      "updated_at",
    ]);
  } finally {
    await store.close();
  }
});

Deno.test("ops: the audit topic needs audit:read and cannot be appended to", async () => {
  const store = await openStore(":memory:");
  try {
    const op = finder(storageOperations(store, {
      toError: (code, message) => new TestCallError(code, message),
    }));
    await store.peers.add({ peerId: "alice" }); // writes an audit event
    await assert.rejects(
      op("streams/read").handler!({ topic: "audit" }, ctx(["streams:read"])),
      (e) => e instanceof TestCallError && e.code === "FORBIDDEN",
    );
    const events = await op("streams/read").handler!(
      { topic: "audit" },
      ctx(["streams:read", "audit:read"]),
    );
    assert.equal((events as unknown[]).length, 1);
    await assert.rejects(
      op("streams/append").handler!({ topic: "audit", type: "fake" }, ctx(["admin:streams"])),
      (e) => e instanceof TestCallError && e.code === "FORBIDDEN",
    );
    assert.throws(
      () => op("streams/subscribe").subscribe!({ topic: "audit" }, ctx(["streams:read"])),
      (e) => e instanceof TestCallError && e.code === "FORBIDDEN",
    );
  } finally {
    await store.close();
  }
});

Deno.test("ops: streams/subscribe replays, follows and ends with the call", async () => {
  const store = await openStore(":memory:");
  try {
    const op = finder(storageOperations(store));
    const append = op("streams/append").handler!;
    const reader = ctx(["streams:write"]);
    assert.deepEqual(await append({ topic: "t", type: "a", data: 1 }, reader), { seq: 1 });
    const controller = new AbortController();
    const seen: number[] = [];
    const done = (async () => {
      for await (
        const e of op("streams/subscribe").subscribe!(
          { topic: "t" },
          ctx(["streams:read"], controller.signal),
        )
      ) {
        seen.push((e as { seq: number }).seq);
        if (seen.length === 2) controller.abort();
      }
    })();
    await append({ topic: "t", type: "b" }, reader);
    await done;
    assert.deepEqual(seen, [1, 2]);
  } finally {
    await store.close();
  }
});
