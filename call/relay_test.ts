// A mesh head relays calls from the wire to its workers without dispatching
// them (call/relay.ts): the same answers, checks, events, deadlines and
// aborts as a dispatched call, over in-memory connections.
import assert from "node:assert/strict";
import {
  CallConnection,
  CallError,
  type CallEvent,
  type Envelope,
  type Identity,
  memoryTransportPair,
  MeshHead,
  OperationRegistry,
  registerWorker,
} from "@alknet/call";
import { until } from "./testutil_test.ts";

const WORKER: Identity = { id: "SHA256:worker", scopes: ["mesh:worker"], resources: {} };
const CALLER: Identity = { id: "SHA256:caller", scopes: ["relay:connect"], resources: {} };

/** A head with worker w1 serving `worker`, and a way to connect callers. */
async function mesh(worker: OperationRegistry, headTimeoutMs?: number) {
  const events: string[] = [];
  const head = new MeshHead({
    observer: (e: CallEvent) =>
      events.push(`${e.operation} ${e.type}${e.code ? ":" + e.code : ""}`),
  });
  const [a, b] = memoryTransportPair();
  const headEnd = new CallConnection(a, { router: head, identity: WORKER });
  const workerEnd = new CallConnection(b, {
    router: worker,
    identity: { id: "head", scopes: ["*"], resources: {} },
  });
  await registerWorker(workerEnd, "w1");
  events.length = 0; // the registration's own
  const caller = () => {
    const [c, d] = memoryTransportPair();
    const served = new CallConnection(c, {
      router: head,
      identity: CALLER,
      defaultTimeoutMs: headTimeoutMs,
      sweepIntervalMs: 10,
    });
    return { served, client: new CallConnection(d) };
  };
  return { head, headEnd, workerEnd, caller, events };
}

/** A worker whose test/hang waits until aborted (counting starts and aborts). */
function hangingWorker() {
  const reg = new OperationRegistry({ validateOutput: "error" });
  const seen = { started: 0, aborted: 0, forwardedFor: [] as (string | undefined)[] };
  reg.register({ name: "test/echo", type: "query", handler: (x) => x });
  reg.register({
    name: "test/known",
    type: "query",
    errors: [{ code: "KNOWN", retryable: true }],
    handler: () => {
      throw new CallError("KNOWN", "declared", { retryable: true, details: { n: 1 } });
    },
  });
  reg.register({
    name: "test/secret",
    type: "query",
    access: { scopes_all: ["secret:read"] },
    handler: () => {
      seen.started++;
      return "s";
    },
  });
  reg.register({
    name: "test/hang",
    type: "query",
    handler: (_x, ctx) =>
      new Promise((_r, reject) => {
        seen.started++;
        seen.forwardedFor.push(ctx.forwardedFor);
        ctx.signal.addEventListener("abort", () => {
          seen.aborted++;
          reject(ctx.signal.reason);
        });
      }),
  });
  return { reg, seen };
}

Deno.test("relay: answers, declared errors, the head's checks and its call events", async () => {
  const { reg, seen } = hangingWorker();
  const m = await mesh(reg);
  const { client, served } = m.caller();
  try {
    assert.deepEqual(await client.call("w1/test/echo", { a: [1, "x"] }), { a: [1, "x"] });
    await assert.rejects(client.call("w1/test/known", null), (e: CallError) => {
      assert.equal(e.code, "KNOWN");
      assert.equal(e.retryable, true);
      assert.deepEqual(e.details, { n: 1 });
      return true;
    });
    // Refused at the head: the worker's handler never runs.
    await assert.rejects(client.call("w1/test/secret", null), { code: "FORBIDDEN" });
    assert.equal(seen.started, 0);
    // A deadline already passed: TIMEOUT from the head, the worker not asked.
    await assert.rejects(client.call("w1/test/hang", null, { timeoutMs: 0 }), { code: "TIMEOUT" });
    assert.equal(seen.started, 0);
    const sub = client.subscribe("w1/test/echo", 1)[Symbol.asyncIterator]();
    await assert.rejects(sub.next(), { code: "INVALID_OPERATION_TYPE" });
    assert.deepEqual(m.events, [
      "w1/test/echo requested",
      "w1/test/echo running",
      "w1/test/echo completed",
      "w1/test/known requested",
      "w1/test/known running",
      "w1/test/known failed:KNOWN",
      "w1/test/secret requested",
      "w1/test/secret failed:FORBIDDEN",
      "w1/test/hang requested",
      "w1/test/hang running",
      "w1/test/hang failed:TIMEOUT",
      "w1/test/echo requested",
      "w1/test/echo failed:INVALID_OPERATION_TYPE",
    ]);
    assert.deepEqual(served.stats, { pending: 0, running: 0 });
    assert.deepEqual(m.headEnd.stats, { pending: 0, running: 0 });
  } finally {
    await client.close();
    await m.workerEnd.close();
  }
});

Deno.test("relay: the head's deadline, a caller's abort and a caller leaving each abort the worker's handler", async () => {
  const { reg, seen } = hangingWorker();
  const m = await mesh(reg, 40);
  try {
    // The head's deadline (its connection's default, shorter than the caller's).
    const a = m.caller();
    await assert.rejects(a.client.call("w1/test/hang", null), { code: "TIMEOUT" });
    await until(() => seen.aborted === 1, "the deadline reaches the worker");
    assert.equal(m.events.at(-1), "w1/test/hang failed:TIMEOUT");

    // The caller aborts.
    const ac = new AbortController();
    const aborted = a.client.call("w1/test/hang", null, { signal: ac.signal, timeoutMs: 60_000 });
    await until(() => seen.started === 2, "the second call starts");
    ac.abort();
    await assert.rejects(aborted, { name: "AbortError" });
    await until(() => seen.aborted === 2, "the abort reaches the worker");
    assert.equal(m.events.at(-1), "w1/test/hang aborted");
    assert.deepEqual(a.served.stats, { pending: 0, running: 0 });

    // The caller's connection closes.
    const b = m.caller();
    const lost = b.client.call("w1/test/hang", null, { timeoutMs: 60_000 }).catch((e) => e);
    await until(() => seen.started === 3, "the third call starts");
    await b.client.close();
    assert.equal(((await lost) as CallError).code, "INTERNAL");
    await until(() => seen.aborted === 3, "the close reaches the worker");
    await until(() => m.headEnd.stats.pending === 0, "nothing pending toward the worker");
    assert.deepEqual(seen.forwardedFor, [CALLER.id, CALLER.id, CALLER.id]);
    await a.client.close();
  } finally {
    await m.workerEnd.close();
  }
});

Deno.test("relay: calls in flight when the worker goes fail 'worker w1 gone'", async () => {
  const { reg, seen } = hangingWorker();
  const m = await mesh(reg);
  const { client } = m.caller();
  try {
    const inFlight = client.call("w1/test/hang", null);
    await until(() => seen.started === 1, "the call starts");
    await m.workerEnd.close();
    await assert.rejects(inFlight, (e: CallError) => {
      assert.equal(e.code, "INTERNAL");
      assert.equal(e.message, "worker w1 gone");
      assert.deepEqual(e.details, { worker: "w1" });
      return true;
    });
    assert.equal(m.events.at(-1), "w1/test/hang failed:INTERNAL");
    await assert.rejects(client.call("w1/test/echo", 1), { code: "NOT_FOUND" });
  } finally {
    await client.close();
  }
});

Deno.test("relay: two callers that use the same request id each get their own answer", async () => {
  const reg = new OperationRegistry();
  const gate = Promise.withResolvers<void>();
  reg.register({
    name: "test/later",
    type: "query",
    handler: async (x) => {
      await gate.promise;
      return x;
    },
  });
  const m = await mesh(reg);
  const raw = () => {
    const [a, b] = memoryTransportPair();
    new CallConnection(a, { router: m.head, identity: CALLER });
    const got: Envelope[] = [];
    b.start({ message: (e) => got.push(e), close: () => {} });
    return { send: (e: Envelope) => b.send(e), got, close: () => b.close() };
  };
  const [x, y] = [raw(), raw()];
  const id = crypto.randomUUID();
  const ask = (input: string): Envelope => ({
    type: "call.requested",
    id,
    payload: { operationId: "/w1/test/later", input, expect: "call" },
  });
  x.send(ask("from x"));
  y.send(ask("from y"));
  await until(() => m.headEnd.stats.pending === 2, "both relayed");
  gate.resolve();
  await until(() => x.got.length === 1 && y.got.length === 1, "both answered");
  assert.deepEqual(x.got[0], { type: "call.responded", id, payload: { output: "from x" } });
  assert.deepEqual(y.got[0], { type: "call.responded", id, payload: { output: "from y" } });
  x.close();
  y.close();
  await m.workerEnd.close();
});
