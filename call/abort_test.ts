import assert from "node:assert/strict";
import { CallConnection } from "./connection.ts";
import { CallError } from "./errors.ts";
import { OperationRegistry } from "./registry.ts";
import { memoryTransportPair } from "./transport.ts";
import type { ChildPolicy } from "./context.ts";
import type { CallEvent } from "./router.ts";
import { until } from "./testutil_test.ts";

type NodeInput = { depth: number; label: string; continueAt?: number };

/**
 * A tree of calls: every node at depth > 0 invokes two children; leaves wait
 * for `gate` (then finish) or for their abort. Records what happened where.
 */
function treeRegistry(gate: Promise<void>) {
  const events = new Map<string, string>();
  const deadlines = new Map<string, number | undefined>();
  const parents = new Map<string, string | undefined>();
  const reg = new OperationRegistry();
  reg.register<NodeInput, string>({
    name: "tree/node",
    type: "query",
    allow: ["tree/node"],
    handler: async ({ depth, label, continueAt }, ctx) => {
      deadlines.set(label, ctx.deadline);
      parents.set(label, ctx.parentId);
      ctx.signal.addEventListener("abort", () => {
        const r = ctx.signal.reason;
        events.set(label, r instanceof CallError ? `aborted:${r.code}` : "aborted");
      });
      if (depth === 0) {
        await Promise.race([gate, new Promise((r) => ctx.signal.addEventListener("abort", r))]);
        if (!ctx.signal.aborted) events.set(label, "done");
        return label;
      }
      const policy: ChildPolicy | undefined = continueAt === depth ? "continue-running" : undefined;
      let kids: unknown[];
      try {
        kids = await Promise.all(
          ["a", "b"].map((k) =>
            ctx.env.invoke("tree/node", { depth: depth - 1, label: label + k, continueAt }, {
              onParentAbort: policy,
            })
          ),
        );
      } catch (e) {
        // A child may hit the shared deadline first: this handler then ends
        // with the child's error before its own timer fires.
        if (!ctx.signal.aborted && e instanceof CallError) {
          events.set(label, `child-failed:${e.code}`);
        }
        throw e;
      }
      if (!ctx.signal.aborted) events.set(label, "done");
      return kids.join(",");
    },
  });
  return { reg, events, deadlines, parents };
}

function labels(depth: number, prefix = "r"): string[] {
  if (depth === 0) return [prefix];
  return [prefix, ...labels(depth - 1, prefix + "a"), ...labels(depth - 1, prefix + "b")];
}

function wire(reg: OperationRegistry) {
  const [a, b] = memoryTransportPair();
  const server = new CallConnection(a, { router: reg });
  const client = new CallConnection(b);
  return { server, client };
}

Deno.test("abort cascade: abort-dependents aborts every descendant of a depth-3 tree", async () => {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const { reg, events, deadlines } = treeRegistry(gate);
  const { client } = wire(reg);
  const all = labels(3);
  assert.equal(all.length, 15);
  const ac = new AbortController();
  const p = client.call("tree/node", { depth: 3, label: "r" }, { signal: ac.signal });
  await until(() => deadlines.size === 15, "the whole tree to start");
  ac.abort();
  await assert.rejects(p);
  await until(() => events.size === 15, "every node to be aborted");
  for (const l of all) assert.equal(events.get(l), "aborted", l);
  open();
  await client.close();
});

Deno.test("abort cascade: continue-running chosen at depth 2 keeps that subtree alive", async () => {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const { reg, events, deadlines, parents } = treeRegistry(gate);
  const { client } = wire(reg);
  const ac = new AbortController();
  const p = client.call("tree/node", { depth: 3, label: "r", continueAt: 2 }, {
    signal: ac.signal,
  });
  await until(() => deadlines.size === 15, "the whole tree to start");
  // parent ids link the tree
  assert.equal(parents.get("r"), undefined);
  assert.ok(parents.get("ra") !== undefined && parents.get("raa") !== parents.get("ra"));
  ac.abort();
  await assert.rejects(p);
  await until(() => events.size === 3, "the root and the depth-2 nodes to abort");
  assert.equal(events.get("r"), "aborted");
  assert.equal(events.get("ra"), "aborted");
  assert.equal(events.get("rb"), "aborted");
  open();
  // Below the nodes that chose continue-running, everything completes.
  await until(() => events.size === 15, "the continuing subtrees to finish");
  for (const l of ["raa", "rab", "rba", "rbb", "raaa", "raab", "rbbb"]) {
    assert.equal(events.get(l), "done", l);
  }
  await client.close();
});

Deno.test("deadlines: children inherit the parent's deadline; a passed deadline aborts the tree with TIMEOUT", async () => {
  const gate = new Promise<void>(() => {});
  const { reg, events, deadlines } = treeRegistry(gate);
  const { client } = wire(reg);
  const t0 = Date.now();
  // Generous enough for the 7 handlers to start on a loaded machine.
  const call = client.call("tree/node", { depth: 2, label: "r" }, { timeoutMs: 600 });
  await until(() => deadlines.size === 7, "the tree to start");
  await assert.rejects(call, (e: CallError) => e.code === "TIMEOUT");
  const root = deadlines.get("r")!;
  assert.ok(root <= t0 + 650);
  for (const l of labels(2)) {
    assert.equal(deadlines.get(l), root, `${l} inherits the root deadline`);
  }
  await until(
    () => events.size === 7,
    () => `every node to time out: ${JSON.stringify([...events])}`,
  );
  for (const l of labels(2)) assert.match(events.get(l)!, /^(aborted|child-failed):TIMEOUT$/, l);
  await client.close();
});

Deno.test("deadlines: continue-running children still stop at the inherited deadline", async () => {
  const gate = new Promise<void>(() => {});
  const { reg, events, deadlines } = treeRegistry(gate);
  const { client } = wire(reg);
  const ac = new AbortController();
  const p = client.call("tree/node", { depth: 2, label: "r", continueAt: 2 }, {
    signal: ac.signal,
    timeoutMs: 800,
  });
  await until(() => deadlines.size === 7, "the tree to start");
  ac.abort();
  await assert.rejects(p);
  await until(() => events.has("r"), "root abort");
  assert.equal(events.get("r"), "aborted");
  assert.equal(events.has("ra"), false, "children continue after the parent's abort");
  await until(
    () => events.size === 7,
    () => `children to hit the deadline: ${JSON.stringify([...events])}`,
  );
  for (const l of ["ra", "rb", "raa", "rab", "rba", "rbb"]) {
    assert.match(events.get(l)!, /^(aborted|child-failed):TIMEOUT$/, l);
  }
  assert.equal(events.get("raa"), "aborted:TIMEOUT");
  await client.close();
});

Deno.test("deadlines: a child may shorten its deadline but never extend it", async () => {
  const reg = new OperationRegistry();
  const seen: number[] = [];
  reg.register({
    name: "d/leaf",
    type: "query",
    visibility: "internal",
    handler: (_i, ctx) => seen.push(ctx.deadline!),
  });
  reg.register({
    name: "d/root",
    type: "query",
    allow: ["d/*"],
    handler: async (_i, ctx) => {
      await ctx.env.invoke("d/leaf", null, { timeoutMs: 10 });
      await ctx.env.invoke("d/leaf", null, { timeoutMs: 60_000 });
      return ctx.deadline;
    },
  });
  const { client } = wire(reg);
  const rootDeadline = await client.call<number>("d/root", null, { timeoutMs: 5_000 });
  assert.ok(seen[0] < rootDeadline);
  assert.equal(seen[1], rootDeadline);
  await client.close();
});

Deno.test("observer: call events carry parent links and end as completed, failed or aborted", async () => {
  const events: CallEvent[] = [];
  const reg = new OperationRegistry({ observer: (e) => events.push(e) });
  reg.register({ name: "o/leaf", type: "query", visibility: "internal", handler: (x) => x });
  reg.register({
    name: "o/root",
    type: "query",
    allow: ["o/*"],
    handler: async (_i, ctx) => {
      await ctx.env.invoke("o/leaf", 1);
      await ctx.env.invoke("o/missing", 1).catch(() => {});
      return await new Promise((r) => ctx.signal.addEventListener("abort", r));
    },
  });
  const { client } = wire(reg);
  const ac = new AbortController();
  const p = client.call("o/root", null, { signal: ac.signal });
  await until(() => events.some((e) => e.operation === "o/missing"), "the child calls");
  ac.abort();
  await assert.rejects(p);
  await until(
    () => events.some((e) => e.operation === "o/root" && e.type === "aborted"),
    "root aborted",
  );
  const root = events.find((e) => e.operation === "o/root")!;
  const seq = (op: string) =>
    events.filter((e) => e.operation === op).map((e) => e.type + (e.code ? `:${e.code}` : ""));
  assert.deepEqual(seq("o/root"), ["requested", "running", "aborted"]);
  assert.deepEqual(seq("o/leaf"), ["requested", "running", "completed"]);
  assert.deepEqual(seq("o/missing"), ["requested", "failed:NOT_FOUND"]);
  assert.ok(events.filter((e) => e.operation !== "o/root").every((e) => e.parentId === root.id));
  await client.close();
});
