// Property-based fuzzing of a mesh head's relay (call/relay.ts) against a
// hostile worker: once registered, the worker answers the calls relayed to
// it with random envelopes (answers, errors, completions, aborts, requests
// of its own, answers to ids it was never given, the same answer twice) and
// random text, which the head decodes as a framed transport would (text
// that is not an envelope closes the link). Every caller's call ends exactly
// once, as the first decisive envelope for its id says (or "worker w1 gone"
// when the link closed first), and the caller's connection keeps working.
// And a hostile caller against a well-behaved worker (see hostileCallerRun).
import assert from "node:assert/strict";
import { fc, type FuzzCase, fuzzTests, rawText } from "../tests/fuzz_util.ts";
import { CallConnection } from "./connection.ts";
import { CallError, isProtocolErrorCode, ProtocolError } from "./errors.ts";
import { MeshHead } from "./mesh_head.ts";
import { registerWorker } from "./mesh_worker.ts";
import { OperationRegistry } from "./registry.ts";
import { memoryTransportPair } from "./transport.ts";
import { decodeMessage, type Envelope } from "./wire.ts";
import type { Identity } from "./access.ts";
import { until } from "./testutil_test.ts";

const WORKER: Identity = { id: "SHA256:worker", scopes: ["mesh:worker"], resources: {} };
const CALLER: Identity = { id: "SHA256:caller", scopes: [], resources: {} };

type Action =
  | { kind: "responded"; call: number; output: unknown }
  | { kind: "error"; call: number; code: string; message: string; retryable: boolean }
  | { kind: "completed" | "aborted"; call: number }
  | { kind: "stranger"; output: unknown }
  | { kind: "requested"; op: string; input: unknown }
  | { kind: "text"; text: string };

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("responded" as const),
      call: fc.nat(9),
      output: fc.jsonValue({ maxDepth: 2 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("error" as const),
      call: fc.nat(9),
      code: fc.oneof(
        fc.constantFrom("NOT_FOUND", "TIMEOUT", "INTERNAL", "KNOWN", "FORBIDDEN"),
        fc.string({ maxLength: 12 }),
      ),
      message: fc.string({ maxLength: 20 }),
      retryable: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constantFrom("completed" as const, "aborted" as const),
      call: fc.nat(9),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("stranger" as const),
      output: fc.jsonValue({ maxDepth: 1 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("requested" as const),
      op: fc.constantFrom("/mesh/register", "/services/list", "/nope/x"),
      input: fc.jsonValue({ maxDepth: 1 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("text" as const), text: rawText }) },
);

/** The text the hostile worker sends for `a`, given the relayed calls' ids. */
function textOf(a: Action, ids: string[]): string {
  const id = "call" in a ? ids[a.call % ids.length] : crypto.randomUUID();
  switch (a.kind) {
    case "responded":
      return JSON.stringify({ type: "call.responded", id, payload: { output: a.output } });
    case "error":
      return JSON.stringify({
        type: "call.error",
        id,
        payload: { code: a.code, message: a.message, retryable: a.retryable },
      });
    case "completed":
    case "aborted":
      return JSON.stringify({ type: `call.${a.kind}`, id, payload: {} });
    case "stranger":
      return JSON.stringify({ type: "call.responded", id, payload: { output: a.output } });
    case "requested":
      return JSON.stringify({
        type: "call.requested",
        id,
        payload: { operationId: a.op, input: a.input, expect: "call" },
      });
    case "text":
      return a.text;
  }
}

type Expected = { ok: true; output: unknown } | { ok: false; code: string; gone: boolean };

/** Lets queued microtasks and a timer turn run (memory transports deliver in microtasks). */
const turn = () => new Promise((r) => setTimeout(r, 0));

async function hostileRun(n: number, actions: Action[]): Promise<boolean> {
  const head = new MeshHead();
  // head ↔ (proxy) ↔ worker: the proxy passes the registration, then turns hostile.
  const [headT, proxyToHead] = memoryTransportPair();
  const [proxyToWorker, workerT] = memoryTransportPair();
  const headEnd = new CallConnection(headT, { router: head, identity: WORKER });
  const registry = new OperationRegistry();
  registry.register({ name: "test/echo", type: "query", handler: (x) => x });
  const workerEnd = new CallConnection(workerT, { router: registry });
  let hostile = false;
  const relayed: Envelope[] = [];
  proxyToHead.start({
    message: (e) => {
      if (!hostile) proxyToWorker.send(e);
      else if (e.type === "call.requested" && e.payload.operationId === "/test/echo") {
        relayed.push(e);
      }
    },
    close: () => proxyToWorker.close(),
  });
  proxyToWorker.start({ message: (e) => proxyToHead.send(e), close: () => proxyToHead.close() });
  await registerWorker(workerEnd, "w1");
  hostile = true;

  const [c, d] = memoryTransportPair();
  const served = new CallConnection(c, { router: head, identity: CALLER });
  const client = new CallConnection(d);
  const results = Array.from({ length: n }, (_, i) =>
    client.call("w1/test/echo", i).then(
      (output) => ({ ok: true as const, output }),
      (error: unknown) => ({ ok: false as const, error }),
    ));
  await until(() => relayed.length === n, "every call relayed");
  const ids = relayed.map((e) => e.id);
  const expected: (Expected | undefined)[] = ids.map(() => undefined);
  let closed = false;
  for (const a of actions) {
    const text = textOf(a, ids);
    let env: Envelope;
    try {
      env = decodeMessage(text);
    } catch (e) {
      assert.ok(e instanceof ProtocolError, `decodeMessage threw ${e}`);
      closed = true;
      proxyToHead.close(e); // what a framed transport does with a frame that is not an envelope
      break;
    }
    const i = ids.indexOf(env.id);
    if (i >= 0 && expected[i] === undefined) {
      if (env.type === "call.responded") expected[i] = { ok: true, output: env.payload.output };
      else if (env.type === "call.error") {
        const code = isProtocolErrorCode(env.payload.code) ? env.payload.code : "INTERNAL";
        expected[i] = { ok: false, code, gone: false };
      } else if (env.type === "call.completed") {
        expected[i] = { ok: false, code: "INTERNAL", gone: false };
      }
    }
    proxyToHead.send(env);
    await turn();
  }
  if (!closed) proxyToHead.close(); // the worker leaves
  const outcomes = await Promise.all(results);
  outcomes.forEach((got, i) => {
    const want = expected[i] ?? { ok: false, code: "INTERNAL", gone: true };
    if (want.ok) {
      assert.ok(got.ok, `call ${i}: expected an answer, got ${!got.ok && got.error}`);
      assert.deepEqual(got.output, want.output);
    } else {
      assert.ok(!got.ok, `call ${i}: expected ${want.code}, got an answer`);
      assert.ok(got.error instanceof CallError, `call ${i}: ${got.error}`);
      assert.equal(got.error.code, want.code);
      if (want.gone) assert.equal(got.error.message, "worker w1 gone");
    }
  });
  // The caller's connection still works and holds nothing.
  assert.equal(typeof (await client.call("services/list", {})), "object");
  assert.deepEqual(served.stats, { pending: 0, running: 0 });
  await until(() => headEnd.isClosed, "the worker link closed");
  await client.close();
  return true;
}

type CallerAction =
  | { kind: "request"; slot: number; input: unknown; timeout0: boolean }
  | { kind: "abort"; slot: number }
  | { kind: "release" };

const callerAction: fc.Arbitrary<CallerAction> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("request" as const),
      slot: fc.nat(3),
      input: fc.jsonValue({ maxDepth: 1 }),
      timeout0: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("abort" as const), slot: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.constant({ kind: "release" as const }) },
);

/**
 * A hostile caller (raw envelopes, ids reused while in flight, aborts of
 * ids it never sent, deadlines already passed) against a well-behaved
 * worker: answers only for requests the head took, echoing their own input
 * (or TIMEOUT), and in the end nothing running at the head, nothing pending
 * toward the worker and no handler left running at the worker.
 */
async function hostileCallerRun(actions: CallerAction[]): Promise<boolean> {
  const head = new MeshHead();
  const [headT, workerT] = memoryTransportPair();
  const headEnd = new CallConnection(headT, { router: head, identity: WORKER });
  const registry = new OperationRegistry();
  let gate = Promise.withResolvers<void>();
  const worker = { started: 0, ended: 0 };
  registry.register({
    name: "test/later",
    type: "query",
    handler: (x, ctx) => {
      worker.started++;
      return new Promise((resolve, reject) => {
        const done = () => worker.ended++;
        gate.promise.then(() => resolve(x)).finally(done);
        ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason));
      });
    },
  });
  const workerEnd = new CallConnection(workerT, { router: registry });
  await registerWorker(workerEnd, "w1");
  const [c, d] = memoryTransportPair();
  const served = new CallConnection(c, { router: head, identity: CALLER });
  const got: Envelope[] = [];
  d.start({ message: (e) => got.push(e), close: () => {} });
  const slots = Array.from({ length: 4 }, () => crypto.randomUUID());
  const inFlight = new Map<string, { input: unknown; timeout0: boolean }>();
  const allowed = new Map<string, unknown[]>(); // outputs each id may be answered with
  const release = async () => {
    gate.resolve();
    gate = Promise.withResolvers<void>();
    await until(() => headEnd.stats.pending === 0, "the worker answered what it was asked");
    for (let i = 0; i < 5; i++) await turn();
    inFlight.clear();
  };
  for (const a of actions) {
    if (a.kind === "release") await release();
    else if (a.kind === "abort") {
      inFlight.delete(slots[a.slot]);
      d.send({ type: "call.aborted", id: slots[a.slot], payload: {} });
    } else {
      const id = slots[a.slot];
      if (!inFlight.has(id)) {
        // A passed deadline is answered at once: the id is free again.
        if (!a.timeout0) inFlight.set(id, a);
        const ok = allowed.get(id) ?? [];
        ok.push(a.timeout0 ? "TIMEOUT" : (a.input === undefined ? null : a.input));
        allowed.set(id, ok);
      }
      d.send({
        type: "call.requested",
        id,
        payload: {
          operationId: "/w1/test/later",
          input: a.input,
          expect: "call",
          ...(a.timeout0 ? { timeout_ms: 0 } : {}),
        },
      });
    }
    await turn();
  }
  // What the caller aborted was abandoned toward the worker; the rest waits there.
  await until(() => headEnd.stats.pending === inFlight.size, "aborted calls abandoned");
  await release();
  for (const e of got) {
    const ok = allowed.get(e.id);
    assert.ok(ok !== undefined, `an answer for ${e.id}, never asked`);
    if (e.type === "call.responded") {
      assert.ok(ok.some((v) => JSON.stringify(v) === JSON.stringify(e.payload.output)));
    } else {
      assert.equal(e.type, "call.error");
      assert.ok(e.type === "call.error" && e.payload.code === "TIMEOUT", JSON.stringify(e));
    }
  }
  assert.deepEqual(served.stats, { pending: 0, running: 0 });
  assert.equal(headEnd.stats.pending, 0);
  await until(() => worker.ended === worker.started, "every handler at the worker ended");
  d.close();
  await workerEnd.close();
  return true;
}

const cases: FuzzCase[] = [{
  name: "mesh relay: a hostile caller's requests and aborts",
  runs: 60,
  property: fc.asyncProperty(fc.array(callerAction, { maxLength: 16 }), hostileCallerRun),
}, {
  name: "mesh relay: a hostile worker's envelopes",
  runs: 60,
  property: fc.asyncProperty(
    fc.integer({ min: 1, max: 5 }),
    fc.array(action, { maxLength: 14 }),
    hostileRun,
  ),
}];

fuzzTests(cases);
