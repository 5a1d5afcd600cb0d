import assert from "node:assert/strict";
import { FlowGraph } from "./graph.ts";
import { FlowgraphError, type FlowgraphErrorCode } from "./errors.ts";

function refused(code: FlowgraphErrorCode, f: () => unknown): FlowgraphError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof FlowgraphError, `expected FlowgraphError, got ${e}`);
    assert.equal(e.code, code);
    return e;
  }
  assert.fail(`expected ${code}`);
}

function build(edges: [string, string][], acyclic = false): FlowGraph {
  const g = new FlowGraph({ acyclic });
  for (const [a, b] of edges) {
    if (!g.hasNode(a)) g.addNode(a, {});
    if (!g.hasNode(b)) g.addNode(b, {});
    g.addEdge(a, b, {});
  }
  return g;
}

Deno.test("nodes and edges: add, get, set, remove, counts", () => {
  const g = new FlowGraph<{ label: string }, { w: number }>();
  g.addNode("a", { label: "A" }).addNode("b", { label: "B" }).addNode("c", { label: "C" });
  refused("NODE_EXISTS", () => g.addNode("a", { label: "again" }));
  g.addEdge("a", "b", { w: 1 }).addEdge("a", "c", { w: 2 }).addEdge("b", "c", { w: 3 });
  assert.equal(g.nodeCount, 3);
  assert.equal(g.edgeCount, 3);
  assert.deepEqual(g.getNode("a"), { label: "A" });
  assert.equal(g.getNode("zz"), undefined);
  assert.deepEqual(g.getEdge("a", "c"), { w: 2 });
  assert.equal(g.getEdge("c", "a"), undefined);
  assert.equal(g.getEdge("a", "nope"), undefined);
  g.setNode("a", { label: "A2" }).setNode("d", { label: "D" });
  assert.deepEqual(g.getNode("a"), { label: "A2" });
  g.setEdge("a", "b", { w: 10 }).setEdge("c", "d", { w: 4 });
  assert.deepEqual(g.getEdge("a", "b"), { w: 10 });
  assert.equal(g.edgeCount, 4);
  assert.deepEqual(g.nodes(), ["a", "b", "c", "d"]);
  assert.deepEqual(g.edges().map((e) => `${e.source}>${e.target}:${e.attributes.w}`), [
    "a>b:10",
    "a>c:2",
    "b>c:3",
    "c>d:4",
  ]);
  g.removeEdge("a", "c");
  refused("EDGE_NOT_FOUND", () => g.removeEdge("a", "c"));
  refused("EDGE_NOT_FOUND", () => g.removeEdge("a", "missing"));
  g.removeNode("c");
  assert.equal(g.nodeCount, 3);
  assert.equal(g.edgeCount, 1); // a>b; b>c and c>d went with c
  refused("NODE_NOT_FOUND", () => g.removeNode("c"));
});

Deno.test("no self-loops, no parallel edges, edges need both nodes", () => {
  const g = build([["a", "b"]]);
  const self = refused("SELF_LOOP", () => g.addEdge("a", "a", {}));
  assert.deepEqual(self.cycle, ["a", "a"]);
  refused("EDGE_EXISTS", () => g.addEdge("a", "b", {}));
  g.addEdge("b", "a", {}); // the opposite direction is another edge
  const missing = refused("NODE_NOT_FOUND", () => g.addEdge("a", "x", {}));
  assert.equal(missing.key, "x");
  assert.equal(g.edgeCount, 2);
});

Deno.test("neighbours and degrees", () => {
  const g = build([["a", "b"], ["a", "c"], ["c", "b"], ["b", "d"], ["d", "a"]]);
  assert.deepEqual(g.outNeighbors("a").sort(), ["b", "c"]);
  assert.deepEqual(g.inNeighbors("b").sort(), ["a", "c"]);
  assert.deepEqual(g.neighbors("a").sort(), ["b", "c", "d"]);
  assert.equal(g.outDegree("a"), 2);
  assert.equal(g.inDegree("a"), 1);
  assert.equal(g.degree("b"), 3);
  const seen: string[] = [];
  g.forEachInNeighbor("b", (n) => seen.push(n));
  assert.deepEqual(seen.sort(), ["a", "c"]);
  refused("NODE_NOT_FOUND", () => g.outNeighbors("zz"));
  refused("NODE_NOT_FOUND", () => g.degree("zz"));
});

Deno.test("acyclic graphs refuse a cycle-closing edge and name the cycle", () => {
  const g = build([["a", "b"], ["b", "c"], ["c", "d"], ["a", "x"]], true);
  const e = refused("CYCLE", () => g.addEdge("d", "a", {}));
  assert.deepEqual(e.cycle, ["d", "a", "b", "c", "d"]);
  assert.match(e.message, /d → a → b → c → d/);
  assert.equal(g.hasEdge("d", "a"), false);
  const two = refused("CYCLE", () => g.addEdge("b", "a", {}));
  assert.deepEqual(two.cycle, ["b", "a", "b"]);
  // Edges against the insertion order that close nothing are accepted.
  g.addNode("y", {});
  g.addEdge("y", "a", {});
  g.addEdge("d", "x", {});
  assert.deepEqual(g.topologicalOrder(), ["y", "a", "b", "c", "d", "x"]);
  assert.equal(g.hasCycle(), false);
  assert.equal(g.findCycle(), null);
  assert.deepEqual(g.cycles(), []);
  // After removing b → c, c → a is fine.
  g.removeEdge("b", "c");
  g.addEdge("c", "a", {});
  const order = g.topologicalOrder();
  for (const { source, target } of g.edges()) {
    assert.ok(order.indexOf(source) < order.indexOf(target), `${source} before ${target}`);
  }
});

Deno.test("topological order and generations of a diamond", () => {
  const g = build([["a", "b"], ["a", "c"], ["b", "d"], ["c", "d"], ["e", "d"]]);
  assert.deepEqual(g.topologicalOrder(), ["a", "e", "b", "c", "d"]);
  assert.deepEqual(g.topologicalGenerations(), [["a", "e"], ["b", "c"], ["d"]]);
});

Deno.test("a cyclic graph: topological order refused with a cycle, cycles enumerated", () => {
  const g = build([["a", "b"], ["b", "a"], ["b", "c"], ["c", "a"], ["c", "d"], ["d", "b"], [
    "d",
    "e",
  ]]);
  assert.equal(g.hasCycle(), true);
  const e = refused("CYCLE", () => g.topologicalOrder());
  const cycle = e.cycle ?? [];
  assert.equal(cycle[0], cycle[cycle.length - 1]);
  for (let i = 0; i + 1 < cycle.length; i++) assert.ok(g.hasEdge(cycle[i], cycle[i + 1]));
  refused("CYCLE", () => g.topologicalGenerations());
  assert.deepEqual(g.cycles(), [["a", "b", "a"], ["a", "b", "c", "a"], ["b", "c", "d", "b"]]);
  assert.deepEqual(
    g.stronglyConnectedComponents().map((c) => c.sort().join("")),
    ["e", "abcd"],
  );
});

Deno.test("every cycle of the complete digraph on four nodes: 20, or the limit", () => {
  const keys = ["a", "b", "c", "d"];
  const edges: [string, string][] = [];
  for (const x of keys) for (const y of keys) if (x !== y) edges.push([x, y]);
  const g = build(edges);
  const all = g.cycles();
  // 6 two-cycles + 4·2 three-cycles + 3! four-cycles
  assert.equal(all.length, 20);
  assert.equal(new Set(all.map((c) => c.join())).size, 20);
  assert.equal(g.cycles({ limit: 5 }).length, 5);
  assert.equal(g.cycles({ limit: 0 }).length, 0);
});

Deno.test("ancestors, descendants, multi-source reachability, paths", () => {
  const g = build([["a", "b"], ["b", "c"], ["x", "y"], ["y", "c"], ["c", "z"]]);
  g.addNode("lonely", {});
  assert.deepEqual([...g.descendants("a")].sort(), ["b", "c", "z"]);
  assert.deepEqual([...g.ancestors("c")].sort(), ["a", "b", "x", "y"]);
  assert.deepEqual([...g.descendants("z")], []);
  assert.deepEqual([...g.reachable(["a", "x"])].sort(), ["a", "b", "c", "x", "y", "z"]);
  assert.deepEqual([...g.reachable(["z", "lonely"], "in")].sort(), [
    "a",
    "b",
    "c",
    "lonely",
    "x",
    "y",
    "z",
  ]);
  assert.deepEqual([...g.reachable([])], []);
  refused("NODE_NOT_FOUND", () => g.reachable(["a", "nope"]));
  assert.deepEqual(g.path("a", "z"), ["a", "b", "c", "z"]);
  assert.deepEqual(g.path("a", "a"), ["a"]);
  assert.equal(g.path("z", "a"), null);
  // On a cycle a node is its own descendant.
  const c = build([["p", "q"], ["q", "p"]]);
  assert.deepEqual([...c.descendants("p")].sort(), ["p", "q"]);
});

Deno.test("JSON round trip keeps nodes, edges, attributes and acyclicity", () => {
  const g = new FlowGraph<{ label: string; tags: string[] }, { w: number }>({ acyclic: true });
  g.addNode("b", { label: "B", tags: ["x"] }).addNode("a", { label: "A", tags: [] });
  g.addNode("c", { label: 'quote " and \\', tags: ["é", "日本"] });
  g.addEdge("b", "a", { w: 1 }).addEdge("a", "c", { w: 0.5 });
  const text = JSON.stringify(g);
  const back = FlowGraph.fromJSON<{ label: string; tags: string[] }, { w: number }>(
    JSON.parse(text),
  );
  assert.equal(back.acyclic, true);
  assert.deepEqual(back.toJSON(), g.toJSON());
  assert.equal(JSON.stringify(back), text);
  refused("CYCLE", () => back.addEdge("c", "b", { w: 2 }));
});

Deno.test("fromJSON refuses malformed JSON and graph-rule violations", () => {
  refused("INVALID_JSON", () => FlowGraph.fromJSON(null));
  refused("INVALID_JSON", () => FlowGraph.fromJSON({ nodes: {}, edges: [] }));
  refused("INVALID_JSON", () => FlowGraph.fromJSON({ nodes: [{ key: 1 }], edges: [] }));
  refused(
    "INVALID_JSON",
    () => FlowGraph.fromJSON({ nodes: [{ key: "a", attributes: 3 }], edges: [] }),
  );
  refused("INVALID_JSON", () => FlowGraph.fromJSON({ acyclic: "yes", nodes: [], edges: [] }));
  refused("INVALID_JSON", () => FlowGraph.fromJSON({ nodes: [], edges: [{ source: "a" }] }));
  refused(
    "NODE_EXISTS",
    () => FlowGraph.fromJSON({ nodes: [{ key: "a" }, { key: "a" }], edges: [] }),
  );
  refused(
    "NODE_NOT_FOUND",
    () => FlowGraph.fromJSON({ nodes: [{ key: "a" }], edges: [{ source: "a", target: "b" }] }),
  );
  const cyclic = {
    acyclic: true,
    nodes: [{ key: "a" }, { key: "b" }],
    edges: [{ source: "a", target: "b" }, { source: "b", target: "a" }],
  };
  assert.deepEqual(refused("CYCLE", () => FlowGraph.fromJSON(cyclic)).cycle, ["a", "b", "a"]);
  assert.equal(FlowGraph.fromJSON({ ...cyclic, acyclic: false }).edgeCount, 2);
  // Converters see every attribute object and may refuse it.
  const labelled = FlowGraph.fromJSON<{ label: string }>(
    { nodes: [{ key: "a", attributes: { label: "A" } }], edges: [] },
    {
      node: (a) => {
        const label = (a as { label?: unknown }).label;
        if (typeof label !== "string") throw new TypeError("label");
        return { label };
      },
    },
  );
  assert.equal(labelled.getNode("a")?.label, "A");
});
