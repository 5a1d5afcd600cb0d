import assert from "node:assert/strict";
import { CallConnection } from "./connection.ts";
import { CallError } from "./errors.ts";
import { OperationRegistry } from "./registry.ts";
import { framedTransport } from "./framed.ts";
import { memoryTransportPair } from "./transport.ts";
import { registerNodeOperations } from "./builtins.ts";
import type { CallContext } from "./context.ts";

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Resolves when `signal` aborts, with its reason. */
function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((r) => {
    if (signal.aborted) r(signal.reason);
    else signal.addEventListener("abort", () => r(signal.reason), { once: true });
  });
}

function pair(serverReg: OperationRegistry, clientReg?: OperationRegistry, opts = {}) {
  const [a, b] = memoryTransportPair();
  const server = new CallConnection(a, { router: serverReg, ...opts });
  const client = new CallConnection(b, { router: clientReg, ...opts });
  return { server, client };
}

Deno.test("connection: bidirectional — the server calls an operation the client registered", async () => {
  const serverReg = new OperationRegistry();
  serverReg.register({
    name: "srv/ask-back",
    type: "query",
    handler: async (input, ctx) => ({
      client_said: await ctx.connection!.call("cli/hello", input),
    }),
  });
  const clientReg = new OperationRegistry();
  clientReg.register({ name: "cli/hello", type: "query", handler: (x) => `hello ${x}` });
  const { server, client } = pair(serverReg, clientReg);
  assert.deepEqual(await client.call("srv/ask-back", "bob"), { client_said: "hello bob" });
  assert.equal(await server.call("cli/hello", "direct"), "hello direct");
  await client.close();
  await server.closed;
});

Deno.test("connection: requests on one stream run concurrently; responses matched by id", async () => {
  const reg = new OperationRegistry();
  const gate = deferred();
  reg.register({
    name: "c/wait",
    type: "query",
    handler: async (n: number) => {
      await gate.promise;
      return n;
    },
  });
  reg.register({ name: "c/now", type: "query", handler: (n: number) => n });
  const { server, client } = pair(reg);
  const slow = client.call("c/wait", 1);
  assert.equal(await client.call("c/now", 2), 2);
  assert.equal(server.stats.running, 1);
  gate.resolve();
  assert.equal(await slow, 1);
  await client.close();
});

Deno.test("connection: call.aborted cancels the handler through its AbortSignal", async () => {
  const reg = new OperationRegistry();
  const seen = deferred<unknown>();
  reg.register({
    name: "c/forever",
    type: "query",
    handler: async (_i, ctx) => {
      seen.resolve(await aborted(ctx.signal));
      return "never sent";
    },
  });
  const { server, client } = pair(reg);
  const ac = new AbortController();
  const p = client.call("c/forever", null, { signal: ac.signal });
  await new Promise((r) => setTimeout(r, 10));
  ac.abort();
  await assert.rejects(p, (e: Error) => e.name === "AbortError");
  const reason = await seen.promise;
  assert.equal((reason as Error).name, "AbortError");
  assert.equal(server.stats.running, 0);
  assert.equal(client.stats.pending, 0);
  await client.close();
});

Deno.test("connection: timeout_ms shortens the deadline; the handler is cancelled and TIMEOUT answered", async () => {
  const reg = new OperationRegistry();
  const seen = deferred<unknown>();
  reg.register({
    name: "c/slow",
    type: "query",
    handler: async (_i, ctx: CallContext) => {
      assert.ok(ctx.deadline! - Date.now() <= 60);
      seen.resolve(await aborted(ctx.signal));
      return null;
    },
  });
  // The server's default (30 s) is far away: only the requested 50 ms can end this call
  // (the handler asserts its deadline), so no clock is read here.
  const { client } = pair(reg);
  await assert.rejects(client.call("c/slow", null, { timeoutMs: 50 }), (e: CallError) => {
    assert.equal(e.code, "TIMEOUT");
    assert.equal(e.retryable, true);
    return true;
  });
  assert.equal(((await seen.promise) as CallError).code, "TIMEOUT");
  await client.close();
});

Deno.test("connection: the pending-map sweep answers TIMEOUT when the peer stays silent", async () => {
  const [a, b] = memoryTransportPair();
  a.start({ message: () => {}, close: () => {} }); // a peer that never answers
  const client = new CallConnection(b, { defaultTimeoutMs: 80, sweepIntervalMs: 20 });
  await assert.rejects(client.call("x/y", null), (e: CallError) => e.code === "TIMEOUT");
  assert.equal(client.stats.pending, 0);
  await client.close();
});

Deno.test("connection: loss mid-call fails pending calls with INTERNAL 'connection closed' and aborts handlers", async () => {
  const reg = new OperationRegistry();
  const started = deferred();
  const seen = deferred<unknown>();
  reg.register({
    name: "c/hang",
    type: "query",
    handler: async (_i, ctx) => {
      started.resolve();
      seen.resolve(await aborted(ctx.signal));
      return null;
    },
  });
  reg.register({
    name: "c/stream",
    type: "subscription",
    subscribe: async function* (_i, ctx) {
      yield 1;
      await aborted(ctx.signal);
    },
  });
  // Real byte streams so the loss is a transport failure, not a polite close.
  const ab = new TransformStream<Uint8Array, Uint8Array>();
  const ba = new TransformStream<Uint8Array, Uint8Array>();
  const server = new CallConnection(
    framedTransport({ readable: ab.readable, writable: ba.writable }),
    {
      router: reg,
    },
  );
  const client = new CallConnection(
    framedTransport({ readable: ba.readable, writable: ab.writable }),
  );
  const call = client.call("c/hang", null);
  const sub = client.subscribe("c/stream", null);
  const it = sub[Symbol.asyncIterator]();
  assert.deepEqual(await it.next(), { value: 1, done: false });
  await started.promise;
  const next = it.next();
  await server.close(); // the server side goes away
  for (const p of [call, next]) {
    await assert.rejects(
      p,
      (e: CallError) => e.code === "INTERNAL" && e.message === "connection closed",
    );
  }
  assert.equal(((await seen.promise) as CallError).message, "connection closed");
  await client.closed;
  await assert.rejects(client.call("c/hang", null), /connection closed/);
});

Deno.test("connection: subscription items, completion and errors", async () => {
  const reg = new OperationRegistry();
  registerNodeOperations(reg, { version: "t" });
  reg.register({
    name: "c/fails",
    type: "subscription",
    subscribe: async function* () {
      yield "a";
      throw new CallError("INTERNAL", "went wrong");
    },
  });
  const { client } = pair(reg);
  const got: unknown[] = [];
  for await (const x of client.subscribe("node/ticks", { count: 5, interval_ms: 1 })) got.push(x);
  assert.deepEqual(got, [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }, { n: 5 }]);
  const items: unknown[] = [];
  await assert.rejects(async () => {
    for await (const x of client.subscribe("c/fails", null)) items.push(x);
  }, /went wrong/);
  assert.deepEqual(items, ["a"]);
  await assert.rejects(async () => {
    for await (const _ of client.subscribe("node/ticks", { count: "x" })) { /* none */ }
  }, (e: CallError) => e.code === "INVALID_INPUT");
  await client.close();
});

Deno.test("connection: leaving a for-await loop aborts the subscription at the server", async () => {
  const reg = new OperationRegistry();
  const stopped = deferred<unknown>();
  reg.register({
    name: "c/infinite",
    type: "subscription",
    subscribe: async function* (_i, ctx) {
      ctx.signal.addEventListener("abort", () => stopped.resolve(ctx.signal.reason));
      for (let i = 0;; i++) {
        yield i;
        await new Promise((r) => setTimeout(r, 1));
      }
    },
  });
  const { server, client } = pair(reg);
  let n = 0;
  for await (const _ of client.subscribe("c/infinite", null)) if (++n === 3) break;
  await stopped.promise;
  assert.equal(server.stats.running, 0);
  await client.close();
});

Deno.test("connection: a consumer that never reads gets an explicit overflow error, not silent drops", async () => {
  const reg = new OperationRegistry();
  reg.register({
    name: "c/flood",
    type: "subscription",
    subscribe: async function* () {
      for (let i = 0; i < 500; i++) yield i;
    },
  });
  const [a, b] = memoryTransportPair();
  new CallConnection(a, { router: reg });
  const client = new CallConnection(b, { maxSubscriptionBuffer: 100 });
  const sub = client.subscribe("c/flood", null);
  await new Promise((r) => setTimeout(r, 50));
  const got: unknown[] = [];
  await assert.rejects(async () => {
    for await (const x of sub) got.push(x);
  }, (e: CallError) => e.code === "INTERNAL" && /overflow/.test(e.message));
  assert.equal(got.length, 0);
  await client.close();
});

Deno.test("connection: server-side subscriptions wait for the byte stream to drain", async () => {
  const reg = new OperationRegistry();
  let produced = 0;
  reg.register({
    name: "c/big",
    type: "subscription",
    subscribe: async function* () {
      for (let i = 0; i < 400; i++) {
        produced++;
        yield "x".repeat(16 * 1024);
      }
    },
  });
  const ab = new TransformStream<Uint8Array, Uint8Array>();
  const ba = new TransformStream<Uint8Array, Uint8Array>(undefined, { highWaterMark: 1 }, {
    highWaterMark: 1,
  });
  const server = new CallConnection(
    framedTransport({ readable: ab.readable, writable: ba.writable }),
    {
      router: reg,
    },
  );
  const client = new CallConnection(
    framedTransport({ readable: ba.readable, writable: ab.writable }),
  );
  const it = client.subscribe("c/big", null)[Symbol.asyncIterator]();
  await it.next();
  await new Promise((r) => setTimeout(r, 50));
  // The client transport keeps reading, so items pile up at the client, but the
  // server never had more than ~1 MiB of frames queued unwritten at once.
  let n = 1;
  while (!(await it.next()).done) n++;
  assert.equal(n, 400);
  assert.equal(produced, 400);
  await client.close();
  await server.closed;
});

Deno.test("connection: values that cannot be encoded fail the call instead of the connection", async () => {
  const reg = new OperationRegistry();
  reg.register({ name: "c/bigint", type: "query", handler: () => 1n });
  reg.register({
    name: "c/bigint-stream",
    type: "subscription",
    subscribe: async function* () {
      yield 1;
      yield 2n;
    },
  });
  reg.register({
    name: "c/bad-details",
    type: "query",
    errors: [{ code: "ODD" }],
    handler: () => {
      throw new CallError("ODD", "odd", { details: { n: 3n } });
    },
  });
  reg.register({ name: "c/ok", type: "query", handler: () => "ok" });
  const ab = new TransformStream<Uint8Array, Uint8Array>();
  const ba = new TransformStream<Uint8Array, Uint8Array>();
  const server = new CallConnection(
    framedTransport({ readable: ab.readable, writable: ba.writable }),
    {
      router: reg,
    },
  );
  const client = new CallConnection(
    framedTransport({ readable: ba.readable, writable: ab.writable }),
  );
  await assert.rejects(client.call("c/bigint", null), /output cannot be sent/);
  const items: unknown[] = [];
  await assert.rejects(async () => {
    for await (const x of client.subscribe("c/bigint-stream", null)) items.push(x);
  }, /output cannot be sent/);
  assert.deepEqual(items, [1]);
  await assert.rejects(
    client.call("c/bad-details", null),
    (e: CallError) => e.code === "ODD" && e.details === undefined,
  );
  await assert.rejects(
    client.call("c/ok", { n: 1n }),
    (e: CallError) => e.code === "INVALID_INPUT",
  );
  assert.equal(await client.call("c/ok", null), "ok");
  assert.equal(server.stats.running, 0);
  await client.close();
  await server.closed;
});

Deno.test("connection: a random mix of calls, aborts, timeouts and subscriptions leaves nothing behind", async () => {
  const reg = new OperationRegistry();
  registerNodeOperations(reg, { version: "t" });
  reg.register({
    name: "c/sleep",
    type: "query",
    handler: (ms: number, ctx) =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => resolve(ms), ms);
        ctx.signal.addEventListener("abort", () => {
          clearTimeout(t);
          reject(ctx.signal.reason);
        });
      }),
  });
  const ab = new TransformStream<Uint8Array, Uint8Array>();
  const ba = new TransformStream<Uint8Array, Uint8Array>();
  const server = new CallConnection(
    framedTransport({ readable: ab.readable, writable: ba.writable }),
    {
      router: reg,
    },
  );
  const client = new CallConnection(
    framedTransport({ readable: ba.readable, writable: ab.writable }),
  );
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return Math.floor((seed / 0x80000000) * n);
  };
  const outcomes = new Map<string, number>();
  const count = (k: string): void => {
    outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
  };
  const jobs: Promise<void>[] = [];
  for (let i = 0; i < 300; i++) {
    const kind = rnd(4);
    const ms = rnd(30);
    if (kind === 0) {
      jobs.push(client.call("c/sleep", ms).then(() => count("ok"), () => count("unexpected")));
    } else if (kind === 1) {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), rnd(20));
      jobs.push(
        client.call("c/sleep", ms + 5, { signal: ac.signal }).then(
          () => count("ok"),
          () => count("aborted"),
        ),
      );
    } else if (kind === 2) {
      jobs.push(
        client.call("c/sleep", 5_000, { timeoutMs: ms + 1 }).then(
          () => count("unexpected"),
          (e: CallError) => count(e.code === "TIMEOUT" ? "timeout" : "unexpected"),
        ),
      );
    } else {
      jobs.push((async () => {
        let n = 0;
        for await (const _ of client.subscribe("node/ticks", { count: 50, interval_ms: 1 })) {
          if (++n === 1 + rnd(5)) break;
        }
        count("sub");
      })());
    }
  }
  await Promise.all(jobs);
  assert.equal(outcomes.get("unexpected"), undefined, JSON.stringify([...outcomes]));
  assert.ok(
    (outcomes.get("timeout") ?? 0) > 0 && (outcomes.get("sub") ?? 0) > 0,
    JSON.stringify([...outcomes]),
  );
  const end = Date.now() + 2000;
  while ((server.stats.running > 0 || client.stats.pending > 0) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.deepEqual(server.stats, { pending: 0, running: 0 });
  assert.deepEqual(client.stats, { pending: 0, running: 0 });
  await client.close();
  await server.closed;
});
