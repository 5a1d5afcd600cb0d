// The call layer's abort cascade checked against @alknet/flowgraph's
// CallGraph.cascade: a tree of calls is recorded through the registry's
// observer; what aborting the root cancels is exactly cascade(root), less the
// subtrees whose calls chose continue-running (the events do not carry the
// policy; the call layer filters). Only this test imports flowgraph.
import assert from "node:assert/strict";
import { CallRecorder, isTerminal } from "@alknet/flowgraph";
import { CallConnection } from "./connection.ts";
import { OperationRegistry } from "./registry.ts";
import { memoryTransportPair } from "./transport.ts";
import { until } from "./testutil_test.ts";

type Input = { depth: number; label: string; continueAt?: number };

/** Every call at depth > 0 invokes two children; leaves wait for their abort or the gate. */
function tree(recorder: CallRecorder, gate: Promise<void>) {
  const ids = new Map<string, string>(); // label → call id
  const aborted = new Set<string>(); // labels whose signal aborted
  const registry = new OperationRegistry({ observer: recorder.observer });
  registry.register<Input, string>({
    name: "tree/node",
    type: "query",
    allow: ["tree/node"],
    handler: async ({ depth, label, continueAt }, ctx) => {
      ids.set(label, ctx.requestId);
      ctx.signal.addEventListener("abort", () => aborted.add(label));
      if (depth === 0) {
        await Promise.race([gate, new Promise((r) => ctx.signal.addEventListener("abort", r))]);
        return label;
      }
      const onParentAbort = continueAt === depth ? "continue-running" : undefined;
      const kids = await Promise.all(
        ["a", "b"].map((k) =>
          ctx.env.invoke("tree/node", { depth: depth - 1, label: label + k, continueAt }, {
            onParentAbort,
          })
        ),
      );
      return kids.join(",");
    },
  });
  return { registry, ids, aborted };
}

async function run(continueAt: number | undefined) {
  const recorder = new CallRecorder();
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const { registry, ids, aborted } = tree(recorder, gate);
  const [a, b] = memoryTransportPair();
  new CallConnection(a, { router: registry });
  const client = new CallConnection(b);
  const ac = new AbortController();
  const call = client.call("tree/node", { depth: 3, label: "r", continueAt }, {
    signal: ac.signal,
  });
  await until(() => ids.size === 15, () => `the tree to start (${ids.size} of 15)`);
  const labelOf = new Map([...ids].map(([l, id]) => [id, l]));
  const root = ids.get("r")!;
  // The recorded graph has the tree's shape: every child under its parent.
  for (const [label, id] of ids) {
    if (label === "r") continue;
    assert.equal(recorder.graph.parent(id)?.id, ids.get(label.slice(0, -1)), label);
  }
  const cascade = recorder.graph.cascade(root).map((id) => labelOf.get(id)!);
  assert.equal(cascade.length, 14, "every descendant is live");
  ac.abort();
  await assert.rejects(call);
  return { recorder, ids, aborted, cascade, root, open, close: () => client.close() };
}

Deno.test("abort cascade = CallGraph.cascade(root) under abort-dependents", async () => {
  const { recorder, ids, aborted, cascade, root, close } = await run(undefined);
  await until(() => aborted.size === 15, () => `every call to abort (${[...aborted]})`);
  assert.deepEqual([...aborted].filter((l) => l !== "r").sort(), [...cascade].sort());
  // And the recorder saw each of them end.
  await until(
    () => [...ids.values()].every((id) => isTerminal(recorder.graph.get(id)!.status)),
    () => "every recorded call to end",
  );
  assert.deepEqual(recorder.graph.cascade(root), []);
  await close();
});

Deno.test("abort cascade with continue-running: cascade(root) less the continuing subtrees", async () => {
  // The depth-2 calls invoke their children with continue-running.
  const { recorder, ids, aborted, cascade, open, close } = await run(2);
  await until(() => aborted.size === 3, () => `r, ra and rb to abort (${[...aborted]})`);
  const continuing = (l: string) => l.length >= 3; // below ra and rb: raa, raab, ...
  const expected = cascade.filter((l) => !continuing(l));
  assert.deepEqual([...aborted].filter((l) => l !== "r").sort(), expected.sort());
  assert.deepEqual(expected.sort(), ["ra", "rb"]);
  // The continuing calls are still live in the graph, and finish normally.
  for (const l of cascade.filter(continuing)) {
    assert.ok(!isTerminal(recorder.graph.get(ids.get(l)!)!.status), `${l} still live`);
  }
  open();
  await until(
    () => [...ids.values()].every((id) => isTerminal(recorder.graph.get(id)!.status)),
    () => "the continuing calls to finish",
  );
  for (const l of cascade.filter((l) => l.length === 4)) {
    assert.equal(recorder.graph.get(ids.get(l)!)!.status, "completed", l);
  }
  assert.equal(aborted.size, 3);
  await close();
});
