// flowOperations on a real @alknet/call registry served over TCP on
// 127.0.0.1: flow/operations shows only what services/list shows the caller,
// flow/calls streams a snapshot then every event (followed by followCalls),
// flow/calls-snapshot answers the recorded calls, the calls operations need
// the flow:read scope, and without a recorder only flow/operations exists.
import assert from "node:assert/strict";
import {
  accessDenial,
  type CallContext,
  CallError,
  connectCall,
  type Identity,
  OperationRegistry,
  registerNodeOperations,
  serveCallTcp,
} from "@alknet/call";
import {
  CallRecorder,
  flowOperations,
  followCalls,
  operationGraphFromJSON,
} from "@alknet/flowgraph";

const WATCHER: Identity = { id: "watcher", scopes: ["flow:read"], resources: {} };
const PLAIN: Identity = { id: "plain", scopes: ["relay:connect"], resources: {} };

function node(recording: boolean) {
  const recorder = recording ? new CallRecorder({ maxCalls: 100 }) : null;
  const registry = new OperationRegistry({ observer: recorder?.observer });
  registerNodeOperations(registry, { version: "test" });
  const id = { type: "object", properties: { id: { type: "string" } }, required: ["id"] };
  registry.register({
    name: "users/create",
    type: "mutation",
    output_schema: id,
    handler: () => ({ id: "u1" }),
  });
  registry.register({
    name: "users/get",
    type: "query",
    input_schema: id,
    handler: (i) => i,
  });
  registry.register({
    name: "admin/secret",
    type: "query",
    access: { scopes_any: ["admin"] },
    handler: () => 42,
  });
  const visible = (ctx: CallContext) =>
    registry.list().map((e) => e.spec).filter((s) =>
      s.visibility === "external" && accessDenial(s.access, ctx.identity) === null
    );
  for (const op of flowOperations(recorder, visible)) registry.register(op);
  return { recorder, registry };
}

Deno.test("flow ops: served over TCP, filtered per caller, snapshot then events", async () => {
  const { recorder, registry } = node(true);
  const tokens: Record<string, Identity> = { w: WATCHER, p: PLAIN };
  const server = await serveCallTcp({ registry, authenticate: (t) => tokens[t] ?? null });
  const watcher = await connectCall(server.url, { token: "w" });
  const plain = await connectCall(server.url, { token: "p" });
  try {
    // The operation graph: what services/list shows this caller, with the schema edges.
    const graph = operationGraphFromJSON(await plain.call("flow/operations", {}));
    const { operations } = await plain.call<{ operations: { name: string }[] }>(
      "services/list",
      {},
    );
    assert.deepEqual(graph.nodes().sort(), operations.map((o) => o.name).sort());
    assert.ok(!graph.hasNode("admin/secret") && !graph.hasNode("flow/calls"));
    assert.ok(graph.hasEdge("users/create", "users/get"));
    assert.ok(
      operationGraphFromJSON(await watcher.call("flow/operations", null)).hasNode(
        "flow/calls",
      ),
    );

    // The calls operations need flow:read.
    await assert.rejects(
      plain.call("flow/calls-snapshot", {}),
      (e) => e instanceof CallError && e.code === "FORBIDDEN",
    );

    // flow/calls: a snapshot, then the events of calls made meanwhile.
    await plain.call("users/create", {});
    const abort = new AbortController();
    const items = watcher.subscribe("flow/calls", { snapshot: true }, { signal: abort.signal });
    let seenGet = false;
    let call = false;
    const followed = (async () => {
      for await (const g of followCalls(items)) {
        if (!call) {
          // The first item is the snapshot: the earlier call is in it.
          assert.ok(g.calls().some((c) => c.operation === "users/create"));
          call = true;
          await plain.call("users/get", { id: "u1" });
        }
        if (g.calls().some((c) => c.operation === "users/get" && c.status === "completed")) {
          seenGet = true;
          abort.abort();
        }
      }
    })();
    await followed.catch((e) => {
      if (!abort.signal.aborted) throw e;
    });
    assert.ok(seenGet);

    // The snapshot query agrees with the recorder.
    const snap = await watcher.call<{ calls: { operation: string; status: string }[] }>(
      "flow/calls-snapshot",
      {},
    );
    const ops = snap.calls.map((c) => c.operation);
    for (const o of ["users/create", "users/get", "flow/calls", "flow/calls-snapshot"]) {
      assert.ok(ops.includes(o), o);
    }
    const self = snap.calls.findLast((c) => c.operation === "flow/calls-snapshot");
    assert.equal(self?.status, "running"); // it is answering this very call
    assert.ok(recorder!.stats().recorded > 10);
  } finally {
    await watcher.close();
    await plain.close();
    await server.close();
  }
});

Deno.test("flow ops: without a recorder only flow/operations is served", async () => {
  const { registry } = node(false);
  assert.ok(registry.spec("flow/operations"));
  assert.equal(registry.spec("flow/calls"), undefined);
  assert.equal(registry.spec("flow/calls-snapshot"), undefined);
  const g = operationGraphFromJSON(
    await registry.invoke("flow/operations", {}, { identity: WATCHER }),
  );
  assert.ok(g.hasNode("node/ping") && !g.hasNode("flow/calls"));
});
