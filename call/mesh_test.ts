// The mesh head and worker registration over in-memory connections.
import assert from "node:assert/strict";
import {
  CallConnection,
  type Identity,
  memoryTransportPair,
  MeshHead,
  OperationRegistry,
  registerWorker,
  type WorkerEvent,
} from "@alknet/call";

const WORKER: Identity = { id: "SHA256:worker", scopes: ["mesh:worker"], resources: {} };
const CALLER: Identity = { id: "SHA256:caller", scopes: ["relay:connect"], resources: {} };

function workerRegistry(tag: string): OperationRegistry {
  const r = new OperationRegistry({ validateOutput: "error" });
  r.register({ name: "node/who", type: "query", handler: () => tag });
  r.register({
    name: "node/ctx",
    type: "query",
    handler: (_i, ctx) => ({ id: ctx.identity?.id, forwarded: ctx.forwardedFor ?? null }),
  });
  r.register({
    name: "node/count",
    type: "subscription",
    subscribe: async function* (n) {
      for (let i = 1; i <= (n as number); i++) yield `${tag}:${i}`;
    },
  });
  r.register({
    name: "node/secret",
    type: "query",
    access: { scopes_all: ["secret:read"] },
    handler: () => "s",
  });
  return r;
}

/** A worker connected to `head` (the head's end authenticated as `identity`). */
function link(head: MeshHead, worker: OperationRegistry, identity: Identity | null = WORKER) {
  const [a, b] = memoryTransportPair();
  const headEnd = new CallConnection(a, { router: head, identity });
  const workerEnd = new CallConnection(b, {
    router: worker,
    identity: { id: "head", scopes: ["*"], resources: {} },
  });
  return { headEnd, workerEnd };
}

/** A client connected to `head` as `identity`. */
function client(head: MeshHead, identity: Identity | null = CALLER): CallConnection {
  const [a, b] = memoryTransportPair();
  new CallConnection(a, { router: head, identity });
  return new CallConnection(b);
}

Deno.test("mesh head: registration, routing by name, discovery, forwarded_for", async () => {
  const events: WorkerEvent[] = [];
  const head = new MeshHead({ onWorker: (e) => events.push(e) });
  head.register({ name: "head/hello", type: "query", handler: () => "head" });
  const w1 = link(head, workerRegistry("w1"));
  const w2 = link(head, workerRegistry("w2"));
  assert.deepEqual(await registerWorker(w1.workerEnd, "w1"), { name: "w1", operations: 4 });
  assert.deepEqual(await registerWorker(w2.workerEnd, "w2"), { name: "w2", operations: 4 });
  const c = client(head);
  try {
    assert.equal(await c.call("w1/node/who", null), "w1");
    assert.equal(await c.call("w2/node/who", null), "w2");
    assert.equal(await c.call("head/hello", null), "head");
    assert.deepEqual(await c.call("w2/node/ctx", null), {
      id: "head",
      forwarded: "SHA256:caller",
    });
    // The head checks the caller against the worker's access requirement.
    await assert.rejects(c.call("w1/node/secret", null), { code: "FORBIDDEN" });
    const names = (await c.call<{ operations: { name: string }[] }>("services/list", {}))
      .operations.map((o) => o.name);
    for (const n of ["head/hello", "w1/node/who", "w2/node/count", "node/who"]) {
      assert.equal(names.includes(n), n !== "node/who", n);
    }
    assert.equal(names.includes("w1/node/secret"), false); // not callable by this caller
    const peers = (await c.call<{ peers: { id: string; state: string; identity: string }[] }>(
      "services/list-peers",
      {},
    )).peers;
    assert.deepEqual(peers.map((p) => [p.id, p.state, p.identity]), [
      ["w1", "live", "SHA256:worker"],
      ["w2", "live", "SHA256:worker"],
    ]);
    const items: unknown[] = [];
    for await (const x of c.subscribe("w2/node/count", 3)) items.push(x);
    assert.deepEqual(items, ["w2:1", "w2:2", "w2:3"]);
    assert.deepEqual(events.map((e) => `${e.type} ${e.name}`), ["registered w1", "registered w2"]);
  } finally {
    await c.close();
    await w1.workerEnd.close();
    await w2.workerEnd.close();
  }
});

Deno.test("mesh head: refusals (scope, taken name, grants, reserved and local names)", async () => {
  const head = new MeshHead();
  head.register({ name: "head/hello", type: "query", handler: () => "head" });
  const stranger = link(head, workerRegistry("x"), CALLER);
  await assert.rejects(registerWorker(stranger.workerEnd, "w1"), { code: "FORBIDDEN" });
  const anon = link(head, workerRegistry("x"), null);
  await assert.rejects(registerWorker(anon.workerEnd, "w1"), { code: "FORBIDDEN" });
  const first = link(head, workerRegistry("a"));
  await registerWorker(first.workerEnd, "w1");
  const second = link(head, workerRegistry("b"));
  await assert.rejects(registerWorker(second.workerEnd, "w1"), { code: "NAME_TAKEN" });
  await assert.rejects(registerWorker(first.workerEnd, "w9"), { code: "NAME_REFUSED" });
  for (const bad of ["any", "mesh", "services", "head", "a/b", ""]) {
    await assert.rejects(registerWorker(second.workerEnd, bad), { code: "NAME_REFUSED" }, bad);
  }
  const granted = link(head, workerRegistry("g"), {
    id: "g",
    scopes: ["mesh:worker", "mesh:worker:g1"],
    resources: {},
  });
  await assert.rejects(registerWorker(granted.workerEnd, "g2"), { code: "NAME_REFUSED" });
  await registerWorker(granted.workerEnd, "g1");
  const listed = link(head, workerRegistry("r"), {
    id: "r",
    scopes: ["mesh:worker"],
    resources: { "mesh:worker": ["r1"] },
  });
  await assert.rejects(registerWorker(listed.workerEnd, "r2"), { code: "NAME_REFUSED" });
  await registerWorker(listed.workerEnd, "r1");
  // The first holder leaves: the name is free again.
  await first.workerEnd.close();
  await first.headEnd.closed;
  assert.deepEqual(await registerWorker(second.workerEnd, "w1"), { name: "w1", operations: 4 });
  assert.equal(await head.invoke("w1/node/who", null), "b");
  for (const l of [stranger, anon, second, granted, listed]) await l.workerEnd.close();
});

Deno.test("mesh head: any/ round-robin, gone workers vanish, in-flight calls fail 'worker gone'", async () => {
  const head = new MeshHead();
  const slow = workerRegistry("w1");
  let started!: () => void;
  const running = new Promise<void>((r) => started = r);
  let abortedAtWorker = false;
  slow.register({
    name: "node/hang",
    type: "query",
    handler: (_i, ctx) =>
      new Promise((_resolve, reject) => {
        started();
        ctx.signal.addEventListener("abort", () => {
          abortedAtWorker = true;
          reject(ctx.signal.reason);
        });
      }),
  });
  const w1 = link(head, slow);
  const w2 = link(head, workerRegistry("w2"));
  await registerWorker(w1.workerEnd, "w1");
  await registerWorker(w2.workerEnd, "w2");
  const c = client(head);
  try {
    const who = [];
    for (let i = 0; i < 4; i++) who.push(await c.call("any/node/who", null));
    assert.deepEqual(who.sort(), ["w1", "w1", "w2", "w2"]);
    const items: unknown[] = [];
    for await (const x of c.subscribe("any/node/count", 1)) items.push(x);
    assert.equal(items.length, 1);

    // Abort from the client reaches the worker's handler.
    const ac = new AbortController();
    const hung = c.call("w1/node/hang", null, { signal: ac.signal });
    await running;
    ac.abort();
    await assert.rejects(hung, { name: "AbortError" });
    for (let i = 0; i < 100 && !abortedAtWorker; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(abortedAtWorker, true);

    // The worker goes while a call is in flight.
    const again = new Promise<void>((r) => started = r);
    const inFlight = c.call("w1/node/hang", null);
    await again;
    await w1.workerEnd.close();
    await assert.rejects(inFlight, (e: { code: string; message: string }) => {
      assert.equal(e.code, "INTERNAL");
      assert.equal(e.message, "worker w1 gone");
      return true;
    });
    await assert.rejects(c.call("w1/node/who", null), { code: "NOT_FOUND" });
    for (let i = 0; i < 3; i++) assert.equal(await c.call("any/node/who", null), "w2");
    const peers = head.peers().map((p) => `${p.id}:${p.state}`);
    assert.deepEqual(peers, ["w2:live", "w1:gone"]);
    await w2.workerEnd.close();
    await assert.rejects(c.call("any/node/who", null), { code: "NOT_FOUND" });
  } finally {
    await c.close();
  }
});

Deno.test("mesh head: a subscription left early at the client ends the worker's generator; an aborted call leaves the link usable", async () => {
  const head = new MeshHead();
  const w = workerRegistry("w1");
  let ended!: () => void;
  const workerEnded = new Promise<void>((r) => ended = r);
  w.register({
    name: "node/forever",
    type: "subscription",
    subscribe: async function* (_i, ctx) {
      try {
        for (let i = 0; !ctx.signal.aborted; i++) {
          yield i;
          await new Promise((r) => setTimeout(r, 1));
        }
      } finally {
        ended();
      }
    },
  });
  const { workerEnd } = link(head, w);
  await registerWorker(workerEnd, "w1");
  const c = client(head);
  try {
    const got: unknown[] = [];
    for await (const x of c.subscribe("w1/node/forever", null)) {
      got.push(x);
      if (got.length === 3) break;
    }
    assert.deepEqual(got, [0, 1, 2]);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      workerEnded,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("the worker's generator did not end")), 10_000);
      }),
    ]).finally(() => clearTimeout(timer));
    // A call aborted at once: the head forwards it, then the abort.
    const ac = new AbortController();
    const p = c.call("w1/node/who", null, { signal: ac.signal });
    ac.abort();
    await assert.rejects(p, { name: "AbortError" });
    assert.equal(await c.call("w1/node/who", null), "w1");
  } finally {
    await c.close();
    await workerEnd.close();
  }
});
