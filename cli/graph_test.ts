import assert from "node:assert/strict";
import { CallGraph } from "@alknet/flowgraph";
import { main } from "./graph.ts";
import { callsText } from "./graph_text.ts";

Deno.test("graph: usage errors exit 2 before connecting", async () => {
  const bad = [
    ["ops"],
    ["--node", "ws://127.0.0.1:1"],
    ["nodes", "--node", "ws://127.0.0.1:1"],
    ["ops", "--node", "ws://127.0.0.1:1", "--format", "png"],
    ["ops", "--node", "ws://127.0.0.1:1", "--format", "text"],
    ["ops", "--node", "ws://127.0.0.1:1", "--watch"],
    ["calls", "--node", "ws://127.0.0.1:1", "--max", "0"],
    ["calls", "ws://127.0.0.1:1", "ws://127.0.0.1:2"],
    ["calls", "--node", "ws://127.0.0.1:1", "--bogus"],
  ];
  const quiet = console.error;
  console.error = () => {};
  try {
    for (const args of bad) assert.equal(await main(args), 2, args.join(" "));
  } finally {
    console.error = quiet;
  }
});

Deno.test("graph: the text view nests children, marks live calls and codes, colours on request", () => {
  const g = new CallGraph();
  g.apply({ type: "requested", id: "p", operation: "a/parent", at: 0 });
  g.apply({ type: "running", id: "p", operation: "a/parent", at: 1 });
  g.apply({ type: "requested", id: "c", operation: "a/child", parentId: "p", at: 2 });
  g.apply({ type: "failed", id: "c", operation: "a/child", at: 7, code: "NOPE" });
  const text = callsText(g, { title: "calls", color: false, now: 10 });
  assert.deepEqual(text.split("\n"), [
    "calls — 1 live, 2 recorded",
    "running    10 ms…    a/parent",
    "failed     5 ms         └ a/child  NOPE",
  ]);
  assert.ok(callsText(g, { title: "calls", color: true, now: 10 }).includes("\x1b[31mfailed"));
  assert.match(callsText(new CallGraph(), { title: "calls", color: false }), /no calls recorded/);
});
