import assert from "node:assert/strict";
import type { Identity } from "@alknet/core/auth";
import { serveCallTcp } from "./carrier_stream.ts";
import { connectCall } from "./connect.ts";
import { CallClient, fromCall } from "./client.ts";
import { CallConnection } from "./connection.ts";
import { CompositeEnv } from "./env.ts";
import { type CallError, SamePeerCollisionError } from "./errors.ts";
import { OperationRegistry } from "./registry.ts";
import { registerNodeOperations } from "./builtins.ts";
import { memoryTransportPair } from "./transport.ts";
import { until } from "./testutil_test.ts";

const who = (id: string): Identity => ({ id, scopes: ["relay:connect"], resources: {} });

Deno.test("fromCall: A → B → C over loopback TCP — calls, subscriptions, aborts, forwarded_for", async () => {
  // C: the worker.
  const regC = new OperationRegistry();
  registerNodeOperations(regC, { version: "c" });
  const cState = { started: false, abortedWith: undefined as unknown, seen: [] as unknown[] };
  regC.register({
    name: "work/who",
    type: "query",
    handler: (_i, ctx) => ({ identity: ctx.identity?.id, forwarded_for: ctx.forwardedFor ?? null }),
  });
  regC.register({
    name: "work/wait",
    type: "query",
    handler: (_i, ctx) =>
      new Promise((resolve) => {
        cState.started = true;
        ctx.signal.addEventListener("abort", () => {
          cState.abortedWith = ctx.signal.reason;
          resolve(null);
        });
      }),
  });
  regC.register({
    name: "work/stream",
    type: "subscription",
    subscribe: async function* (_i, ctx) {
      for (let i = 0; !ctx.signal.aborted; i++) {
        yield i;
        await new Promise((r) => setTimeout(r, 2));
      }
      cState.seen.push("stream stopped");
    },
  });
  const serverC = await serveCallTcp({
    registry: regC,
    authenticate: (t) => (t === "tok-b" ? who("B") : null),
  });
  // B: the head, importing C's operations under "c/".
  const connBC = await connectCall(serverC.url, { token: "tok-b" });
  const regB = new OperationRegistry();
  regB.register({ name: "head/hello", type: "query", handler: () => "hi from B" });
  const env = new CompositeEnv({ local: regB });
  const peerC = await fromCall(connBC, { prefix: "c/", id: "worker-c" });
  env.attach(peerC);
  const serverB = await serveCallTcp({
    registry: env,
    authenticate: (t) => (t === "tok-a" ? who("A") : null),
  });
  // A: the caller.
  const connAB = await connectCall(serverB.url, { token: "tok-a" });
  const a = new CallClient(connAB);
  try {
    assert.deepEqual(await a.call("c/node/ping", { x: 1 }), { x: 1 });
    assert.equal(await a.call("head/hello", null), "hi from B");
    assert.deepEqual(await a.call("c/work/who", null), { identity: "B", forwarded_for: "A" });
    const names = (await a.list()).map((o) => o.name);
    for (const n of ["c/node/ping", "c/node/ticks", "c/work/wait", "head/hello", "services/list"]) {
      assert.ok(names.includes(n), n);
    }
    assert.ok(!names.includes("c/services/list"));
    assert.deepEqual(await a.listPeers(), [{ id: "worker-c", operations: 6, open: true }]);
    assert.equal((await a.schema("c/node/ticks")).type, "subscription");

    const ticks: unknown[] = [];
    for await (const t of a.subscribe("c/node/ticks", { count: 4, interval_ms: 1 })) ticks.push(t);
    assert.deepEqual(ticks, [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
    await assert.rejects(async () => {
      for await (const _ of a.subscribe("c/node/ticks", { count: "no" })) { /* nothing */ }
    }, (e: CallError) => e.code === "INVALID_INPUT");
    // The kind is checked at each hop: calling a forwarded subscription is refused.
    await assert.rejects(
      a.call("c/node/ticks", { count: 1 }),
      (e: CallError) => e.code === "INVALID_OPERATION_TYPE",
    );

    // Aborting at A stops the handler at C.
    const ac = new AbortController();
    const p = a.call("c/work/wait", null, { signal: ac.signal });
    await until(() => cState.started, "C's handler to start");
    ac.abort();
    await assert.rejects(p);
    await until(() => cState.abortedWith !== undefined, "C's handler to be aborted");
    assert.equal((cState.abortedWith as Error).name, "AbortError");

    // Leaving a subscription at A stops the stream at C.
    let n = 0;
    for await (const _ of a.subscribe("c/work/stream", null)) if (++n === 5) break;
    await until(() => cState.seen.length === 1, "C's stream to stop");
    await until(
      () => serverC.connections.size === 1 && [...serverC.connections][0].stats.running === 0,
      "C idle",
    );

    // Deadlines travel: a short timeout at A times out at C.
    await assert.rejects(
      a.call("c/work/wait", null, { timeoutMs: 80 }),
      (e: CallError) => e.code === "TIMEOUT",
    );

    // Losing C: its operations disappear from B's routing.
    await connBC.close();
    await assert.rejects(a.call("c/node/ping", 1), (e: CallError) => e.code === "NOT_FOUND");
    assert.deepEqual(await a.listPeers(), [{ id: "worker-c", operations: 6, open: false }]);
  } finally {
    await connAB.close();
    await connBC.close();
    await serverB.close();
    await serverC.close();
  }
});

function fakePeer(listing: string[]) {
  const reg = new OperationRegistry({ discovery: false });
  reg.register({
    name: "services/list",
    type: "query",
    handler: () => ({ operations: listing.map((name) => ({ name, type: "query" })) }),
  });
  reg.register({
    name: "services/schema",
    type: "query",
    handler: ({ name }: { name: string }) => ({
      name,
      type: "query",
      visibility: "external",
      input_schema: {},
      output_schema: {},
      errors: [],
      access: {},
    }),
  });
  for (const name of new Set(listing)) {
    reg.register({ name, type: "query", handler: () => `${name} from ${listing.join("+")}` });
  }
  const [x, y] = memoryTransportPair();
  const server = new CallConnection(x, { router: reg });
  const client = new CallConnection(y);
  return { server, client };
}

Deno.test("fromCall: same name twice from one peer is an error; from two peers it is not", async () => {
  const dup = fakePeer(["w/op", "w/op"]);
  await assert.rejects(fromCall(dup.client), SamePeerCollisionError);
  await dup.client.close();

  const p1 = fakePeer(["w/op", "w/one"]);
  const p2 = fakePeer(["w/op", "w/two"]);
  const env = new CompositeEnv({ local: new OperationRegistry() });
  env.attach(await fromCall(p1.client, { id: "p1" }));
  env.attach(await fromCall(p2.client, { id: "p2" }));
  assert.throws(() =>
    env.attach({ id: "p1", open: true, lookup: () => undefined, list: () => [], peers: () => [] })
  );
  // attach order wins; a call may pin a peer
  assert.equal(await env.invoke("w/op", null), "w/op from w/op+w/one");
  assert.equal(await env.invoke("w/op", null, { peer: "p2" }), "w/op from w/op+w/two");
  assert.equal(await env.invoke("w/two", null), "w/two from w/op+w/two");
  await assert.rejects(
    env.invoke("w/two", null, { peer: "p1" }),
    (e: CallError) => e.code === "NOT_FOUND",
  );
  // filter
  const p3 = fakePeer(["w/op", "w/three"]);
  const only = await fromCall(p3.client, { filter: (s) => s.name === "w/three" });
  assert.deepEqual(only.list().map((e) => e.spec.name), ["w/three"]);
  for (const p of [p1, p2, p3]) await p.client.close();
});

Deno.test("composite env: session layer first, then peers, then local", async () => {
  const local = new OperationRegistry();
  local.register({ name: "x/who", type: "query", handler: () => "local" });
  local.register({ name: "x/local-only", type: "query", handler: () => "local" });
  const peer = fakePeer(["x/who", "x/peer-only"]);
  const session = new OperationRegistry({ discovery: false });
  session.register({ name: "x/who", type: "query", handler: () => "session" });
  const env = new CompositeEnv({ local });
  env.attach(await fromCall(peer.client, { id: "p" }));
  assert.equal(await env.invoke("x/who", null), "x/who from x/who+x/peer-only");
  const withSession = env.withSession(session);
  assert.equal(await withSession.invoke("x/who", null), "session");
  assert.equal(await withSession.invoke("x/local-only", null), "local");
  assert.equal(env.detach("p"), true);
  assert.equal(await env.invoke("x/who", null), "local");
  await peer.client.close();
});
