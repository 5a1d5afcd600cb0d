// Random-graph property tests (fast-check, fixed seeds): every algorithm is
// checked against a brute-force reference on the same graph.
import assert from "node:assert/strict";
import fc from "fast-check";
import { FlowGraph } from "./graph.ts";
import { FlowgraphError } from "./errors.ts";
import { DynamicOrder } from "./order.ts";

const RUNS = { seed: 0x5eed, numRuns: 200 };

/** Transitive closure by Floyd–Warshall: reach[i][j] ⇔ a non-empty path i ⇝ j. */
function closure(n: number, edges: [number, number][]): boolean[][] {
  const r = Array.from({ length: n }, () => new Array<boolean>(n).fill(false));
  for (const [a, b] of edges) r[a][b] = true;
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      if (!r[i][k]) continue;
      for (let j = 0; j < n; j++) if (r[k][j]) r[i][j] = true;
    }
  }
  return r;
}

/** Two different node numbers below n (n ≥ 2), without rejection sampling. */
const distinctPair = (n: number) =>
  fc.tuple(fc.nat(n - 1), fc.nat(n - 2)).map(([a, b]) =>
    [a, b >= a ? b + 1 : b] as [number, number]
  );

/** A random DAG: n nodes, edges i → j with i < j in a hidden order, labels shuffled. */
const dagArb = fc.integer({ min: 1, max: 30 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    perm: fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
    pairs: n < 2 ? fc.constant([] as [number, number][]) : fc.uniqueArray(
      distinctPair(n).map(([a, b]) => (a < b ? [a, b] : [b, a]) as [number, number]),
      { maxLength: 80, selector: ([a, b]) => `${a},${b}` },
    ),
  })
);

/** A random digraph (cycles allowed), no self-loops. */
const digraphArb = (max: number, maxEdges: number) =>
  fc.integer({ min: 1, max }).chain((n) =>
    fc.record({
      n: fc.constant(n),
      pairs: n < 2 ? fc.constant([] as [number, number][]) : fc.uniqueArray(distinctPair(n), {
        maxLength: maxEdges,
        selector: ([a, b]) => `${a},${b}`,
      }),
    })
  );

const key = (i: number) => `n${i}`;

function graphOf(n: number, edges: [number, number][], acyclic: boolean): FlowGraph {
  const g = new FlowGraph({ acyclic });
  for (let i = 0; i < n; i++) g.addNode(key(i), {});
  for (const [a, b] of edges) g.addEdge(key(a), key(b), {});
  return g;
}

Deno.test("random DAGs: accepted by an acyclic graph, topological order respects every edge", () => {
  fc.assert(
    fc.property(dagArb, ({ n, perm, pairs }) => {
      // Relabel so that insertion order is not the hidden topological order.
      const edges = pairs.map(([a, b]) => [perm[a], perm[b]] as [number, number]);
      const g = graphOf(n, edges, true);
      assert.equal(g.edgeCount, edges.length);
      for (const order of [g.topologicalOrder(), g.topologicalGenerations().flat()]) {
        assert.equal(order.length, n);
        const at = new Map(order.map((k, i) => [k, i]));
        for (const [a, b] of edges) assert.ok(at.get(key(a))! < at.get(key(b))!);
      }
      assert.equal(g.findCycle(), null);
    }),
    RUNS,
  );
});

Deno.test("random DAGs: reachability equals the transitive closure; ancestors mirror descendants", () => {
  fc.assert(
    fc.property(dagArb, fc.array(fc.nat(29), { maxLength: 5 }), ({ n, perm, pairs }, picks) => {
      const edges = pairs.map(([a, b]) => [perm[a], perm[b]] as [number, number]);
      const g = graphOf(n, edges, true);
      const r = closure(n, edges);
      for (let i = 0; i < n; i++) {
        const desc = g.descendants(key(i));
        const anc = g.ancestors(key(i));
        for (let j = 0; j < n; j++) {
          assert.equal(desc.has(key(j)), r[i][j]);
          assert.equal(anc.has(key(j)), r[j][i]);
        }
        assert.ok(!desc.has(key(i)) && !anc.has(key(i)));
        for (const d of desc) assert.ok(g.ancestors(d).has(key(i)));
      }
      const sources = [...new Set(picks.filter((p) => p < n))];
      const reach = g.reachable(sources.map(key));
      for (let j = 0; j < n; j++) {
        const expected = sources.includes(j) || sources.some((s) => r[s][j]);
        assert.equal(reach.has(key(j)), expected);
      }
      for (let j = 0; j < n; j++) {
        for (let i = 0; i < n; i++) {
          const p = g.path(key(i), key(j));
          assert.equal(p !== null, i === j || r[i][j]);
          if (p !== null) {
            for (let k = 0; k + 1 < p.length; k++) assert.ok(g.hasEdge(p[k], p[k + 1]));
          }
        }
      }
    }),
    { ...RUNS, numRuns: 100 },
  );
});

Deno.test("random edges into an acyclic graph (and its JSON copy): refused exactly when they close a cycle, named", () => {
  fc.assert(
    fc.property(digraphArb(12, 60), ({ n, pairs }) => {
      let g = graphOf(n, [], true);
      const order = new DynamicOrder(); // checked separately on a plain graph
      const plain = graphOf(n, [], false);
      for (let i = 0; i < n; i++) order.add(key(i));
      const accepted: [number, number][] = [];
      for (const [i, [a, b]] of pairs.entries()) {
        // Halfway, continue on a copy rebuilt from JSON (its order is re-seeded).
        if (i === Math.floor(pairs.length / 2)) {
          g = FlowGraph.fromJSON(JSON.parse(JSON.stringify(g)));
        }
        const closes = a === b || closure(n, accepted)[b][a];
        try {
          g.addEdge(key(a), key(b), {});
          assert.ok(!closes, `edge ${a}→${b} should have been refused`);
          accepted.push([a, b]);
        } catch (e) {
          assert.ok(e instanceof FlowgraphError && e.code === "CYCLE");
          assert.ok(closes);
          const cycle = e.cycle!;
          assert.deepEqual([cycle[0], cycle[1]], [key(a), key(b)]);
          assert.equal(cycle[cycle.length - 1], key(a));
          assert.equal(new Set(cycle.slice(0, -1)).size, cycle.length - 1);
          for (let k = 1; k + 1 < cycle.length; k++) assert.ok(g.hasEdge(cycle[k], cycle[k + 1]));
        }
        // The raw order object agrees, and keeps a valid order after each step.
        const named = order.insertEdge(plain, key(a), key(b));
        assert.equal(named === null, !closes);
        if (named === null) plain.addEdge(key(a), key(b), {});
        const at = new Map(order.sorted().map((k, i) => [k, i]));
        for (const { source, target } of plain.edges()) {
          assert.ok(at.get(source)! < at.get(target)!);
        }
      }
      assert.equal(g.edgeCount, accepted.length);
    }),
    RUNS,
  );
});

/** Every elementary cycle by brute force, as canonical strings (rotated to the smallest node). */
function bruteCycles(n: number, edges: [number, number][]): Set<string> {
  const out = new Set<string>();
  const adj = Array.from({ length: n }, () => [] as number[]);
  for (const [a, b] of edges) adj[a].push(b);
  const walk = (start: number, path: number[], on: Set<number>) => {
    for (const m of adj[path[path.length - 1]]) {
      if (m === start) out.add([...path, start].join(">"));
      else if (m > start && !on.has(m)) {
        on.add(m);
        walk(start, [...path, m], on);
        on.delete(m);
      }
    }
  };
  for (let s = 0; s < n; s++) walk(s, [s], new Set([s]));
  return out;
}

Deno.test("random digraphs: cycles, one cycle and components agree with brute force", () => {
  fc.assert(
    fc.property(digraphArb(7, 20), ({ n, pairs }) => {
      const g = graphOf(n, pairs, false);
      const expected = bruteCycles(n, pairs);
      const found = g.cycles().map((c) => {
        const nums = c.slice(0, -1).map((k) => Number(k.slice(1)));
        const m = nums.indexOf(Math.min(...nums));
        return [...nums.slice(m), ...nums.slice(0, m), nums[m]].join(">");
      });
      assert.equal(found.length, expected.size);
      assert.deepEqual(new Set(found), expected);
      const one = g.findCycle();
      assert.equal(one !== null, expected.size > 0);
      assert.equal(g.hasCycle(), expected.size > 0);
      if (one !== null) {
        for (let k = 0; k + 1 < one.length; k++) assert.ok(g.hasEdge(one[k], one[k + 1]));
        assert.equal(one[0], one[one.length - 1]);
      }
      const r = closure(n, pairs);
      const comp = new Map<string, number>();
      g.stronglyConnectedComponents().forEach((c, i) => c.forEach((k) => comp.set(k, i)));
      assert.equal(comp.size, n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const same = i === j || (r[i][j] && r[j][i]);
          assert.equal(comp.get(key(i)) === comp.get(key(j)), same);
        }
      }
      // A topological order exists exactly when there is no cycle.
      let ordered = true;
      try {
        g.topologicalOrder();
      } catch (e) {
        assert.ok(e instanceof FlowgraphError && e.code === "CYCLE");
        ordered = false;
      }
      assert.equal(ordered, expected.size === 0);
    }),
    RUNS,
  );
});

Deno.test("random graphs: JSON round trip is lossless", () => {
  fc.assert(
    fc.property(
      digraphArb(15, 40),
      fc.array(fc.string(), { minLength: 15, maxLength: 15 }),
      ({ n, pairs }, labels) => {
        const g = new FlowGraph<{ label: string }, { i: number }>();
        for (let i = 0; i < n; i++) g.addNode(key(i), { label: labels[i] });
        pairs.forEach(([a, b], i) => g.addEdge(key(a), key(b), { i }));
        const back = FlowGraph.fromJSON(JSON.parse(JSON.stringify(g)));
        assert.deepEqual(back.toJSON(), g.toJSON());
      },
    ),
    RUNS,
  );
});
