import assert from "node:assert/strict";
import { CallConnection } from "./connection.ts";
import { CallError, ConnectionClosedError } from "./errors.ts";
import { OperationRegistry } from "./registry.ts";
import { CallControl } from "./request.ts";
import type { OperationRouter, RunOutcome } from "./router.ts";
import { memoryTransportPair } from "./transport.ts";

/** An outcome that records what it was told (and fails the test if told twice). */
function recorder(): RunOutcome & { told: Promise<{ value?: unknown; error?: unknown }> } {
  let tell!: (r: { value?: unknown; error?: unknown }) => void;
  const told = new Promise<{ value?: unknown; error?: unknown }>((r) => (tell = r));
  let count = 0;
  return {
    told,
    value(v) {
      assert.equal(++count, 1, "told twice");
      tell({ value: v });
    },
    error(e) {
      assert.equal(++count, 1, "told twice");
      tell({ error: e });
    },
  };
}

function serverWith(register: (reg: OperationRegistry) => void) {
  const reg = new OperationRegistry();
  register(reg);
  const [a, b] = memoryTransportPair();
  const server = new CallConnection(a, { router: reg });
  const client = new CallConnection(b);
  return { server, client };
}

Deno.test("callInto: the output, then the peer's error, each told once", async () => {
  const { server, client } = serverWith((reg) => {
    reg.register({ name: "t/echo", type: "query", handler: (x) => x });
    reg.register({
      name: "t/fail",
      type: "query",
      errors: [{ code: "NOPE", retryable: true }],
      handler: () => {
        throw new CallError("NOPE", "not today", { retryable: true });
      },
    });
  });
  const ok = recorder();
  client.callInto("t/echo", { a: [1, "x"] }, ok);
  assert.deepEqual(await ok.told, { value: { a: [1, "x"] } });
  const bad = recorder();
  client.callInto("t/fail", null, bad);
  const { error } = await bad.told;
  assert.ok(error instanceof CallError);
  assert.equal(error.code, "NOPE");
  assert.equal(error.retryable, true);
  assert.equal(client.stats.pending, 0);
  await client.close();
  await server.closed;
});

Deno.test("callInto: aborting sends call.aborted (the handler sees it) and tells the reason", async () => {
  let handlerAborted!: (reason: unknown) => void;
  const sawAbort = new Promise((r) => (handlerAborted = r));
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  const { server, client } = serverWith((reg) =>
    reg.register({
      name: "t/slow",
      type: "query",
      handler: (_x, ctx) =>
        new Promise((_resolve, reject) => {
          started();
          ctx.signal.addEventListener("abort", () => {
            handlerAborted(ctx.signal.reason);
            reject(ctx.signal.reason);
          });
        }),
    })
  );
  const control = new CallControl();
  const out = recorder();
  client.callInto("t/slow", null, out, { abort: control });
  await running;
  const reason = new CallError("CANCELLED", "stop");
  control.abort(reason);
  assert.deepEqual(await out.told, { error: reason });
  await sawAbort;
  assert.equal(client.stats.pending, 0);
  // Already aborted: told at once, nothing sent.
  const late = recorder();
  client.callInto("t/slow", null, late, { abort: control });
  assert.deepEqual(await late.told, { error: reason });
  assert.equal(client.stats.pending, 0);
  await client.close();
  await server.closed;
});

Deno.test("callInto: a lost connection is told as lostError(cause), or as the ConnectionClosedError", async () => {
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  const { server, client } = serverWith((reg) =>
    reg.register({
      name: "t/hang",
      type: "query",
      handler: (_x, ctx) =>
        new Promise((_r, reject) => {
          started();
          ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason));
        }),
    })
  );
  const mapped = recorder();
  const plain = recorder();
  const lostError = (cause: ConnectionClosedError) =>
    new CallError("INTERNAL", "peer gone", { cause });
  client.callInto("t/hang", null, mapped, { lostError });
  client.callInto("t/hang", null, plain);
  await running;
  await server.close();
  const m = (await mapped.told).error;
  assert.ok(m instanceof CallError);
  assert.equal(m.message, "peer gone");
  assert.ok(m.cause instanceof ConnectionClosedError);
  assert.ok((await plain.told).error instanceof ConnectionClosedError);
  // After the close: told at once, mapped the same way.
  const after = recorder();
  client.callInto("t/hang", null, after, { lostError });
  assert.equal(((await after.told).error as CallError).message, "peer gone");
  await client.closed;
});

Deno.test("callInto: input that cannot be encoded is INVALID_INPUT and leaves nothing pending", async () => {
  const { server, client } = serverWith((reg) =>
    reg.register({ name: "t/echo", type: "query", handler: (x) => x })
  );
  const out = recorder();
  client.callInto("t/echo", { n: 1n }, out);
  const { error } = await out.told;
  assert.ok(error instanceof CallError);
  assert.equal(error.code, "INVALID_INPUT");
  assert.equal(client.stats.pending, 0);
  const ok = recorder();
  client.callInto("t/echo", 7, ok);
  assert.deepEqual(await ok.told, { value: 7 });
  await client.close();
  await server.closed;
});

Deno.test("callInto: the deadline answers TIMEOUT (the peer's, within the connection's sweep)", async () => {
  const { server, client } = serverWith((reg) =>
    reg.register({
      name: "t/hang",
      type: "query",
      handler: (_x, ctx) =>
        new Promise((_r, reject) =>
          ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason))
        ),
    })
  );
  const out = recorder();
  client.callInto("t/hang", null, out, { timeoutMs: 30 });
  const { error } = await out.told;
  assert.ok(error instanceof CallError);
  assert.equal(error.code, "TIMEOUT");
  await client.close();
  await server.closed;
});

Deno.test("dispatcher: an entry's runInto is used for calls, with the same events, error mapping and deadline", async () => {
  const reg = new OperationRegistry();
  reg.register({
    name: "t/fwd",
    type: "query",
    errors: [{ code: "KNOWN", retryable: false }],
    handler: () => "run, not runInto",
  });
  const base = reg.lookup("t/fwd")!;
  const later: RunOutcome[] = [];
  const events: string[] = [];
  const router: OperationRouter = {
    lookup: (name) =>
      name === "t/fwd"
        ? {
          ...base,
          runInto: (input, _ctx, outcome) => {
            const x = input as string;
            if (x === "value") outcome.value({ via: "runInto" });
            else if (x === "known") outcome.error(new CallError("KNOWN", "declared"));
            else if (x === "odd") outcome.error(new CallError("ODD", "undeclared"));
            else if (x === "throw") throw new Error("boom");
            else later.push(outcome); // never told: the deadline answers
          },
        }
        : undefined,
    list: () => [],
    peers: () => [],
    observer: (e) => events.push(`${e.type}${e.code ? ":" + e.code : ""}`),
  };
  const [a, b] = memoryTransportPair();
  const server = new CallConnection(a, { router, sweepIntervalMs: 10 });
  const client = new CallConnection(b);
  assert.deepEqual(await client.call("t/fwd", "value"), { via: "runInto" });
  assert.deepEqual(events, ["requested", "running", "completed"]);
  await assert.rejects(client.call("t/fwd", "known"), { code: "KNOWN" });
  await assert.rejects(client.call("t/fwd", "odd"), (e: CallError) => {
    assert.equal(e.code, "INTERNAL");
    assert.match(e.message, /undeclared error code ODD/);
    return true;
  });
  await assert.rejects(client.call("t/fwd", "throw"), { code: "INTERNAL" });
  await assert.rejects(client.call("t/fwd", "hang", { timeoutMs: 30 }), { code: "TIMEOUT" });
  assert.equal(later.length, 1);
  later[0].value("too late"); // told after the deadline answered: ignored
  assert.equal(events.at(-1), "failed:TIMEOUT");
  assert.deepEqual(server.stats, { pending: 0, running: 0 });
  await client.close();
  await server.closed;
});
