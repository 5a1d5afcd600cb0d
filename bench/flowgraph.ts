/**
 * flowgraph benchmark, everything in one process and one run:
 *
 * 1. a random DAG of 10k nodes / 50k edges (node insertion order is not a
 *    topological order): built by `FlowGraph` with and without acyclicity
 *    checks, against graphology's own `addDirectedEdge` and against
 *    graphology-dag's `willCreateCycle` per edge (on a time budget);
 * 2. topological order: `FlowGraph.topologicalOrder` against graphology-dag's
 *    `topologicalSort`, and the order the acyclic graph maintains;
 * 3. reachability from 100 sources: one multi-source pass against
 *    graphology-traversal's `bfsFromNode` once per source;
 * 4. call-graph ingestion of 100k call events (goal ≥ 100k events/s), with
 *    the bounded recorder a node runs and, for comparison, the same calls
 *    kept in a graphology graph;
 * 5. the operation graph of 200 operations: building it, DOT, and SVG from
 *    the WebAssembly Graphviz (first render includes loading it), with
 *    Debian's `dot -Tsvg` alongside when installed.
 *
 * Every figure is the median of `--runs` runs. Ratios are graphology ÷
 * flowgraph time (above 1: flowgraph is faster).
 *
 * Usage: deno run -A bench/flowgraph.ts [--nodes 10000] [--edges 50000]
 *          [--sources 100] [--events 100000] [--operations 200] [--runs 5] [--seed 1]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { DirectedGraph } from "graphology";
import { topologicalSort, willCreateCycle } from "graphology-dag";
import { bfsFromNode } from "graphology-traversal";
import {
  buildOperationGraph,
  type CallEventLike,
  CallGraph,
  CallRecorder,
  FlowGraph,
  operationDrawing,
  renderSvg,
  toDot,
} from "@alknet/flowgraph";
import { manyOperations } from "../flowgraph/testdata/specs.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    nodes: { type: "string", default: "10000" },
    edges: { type: "string", default: "50000" },
    sources: { type: "string", default: "100" },
    events: { type: "string", default: "100000" },
    operations: { type: "string", default: "200" },
    runs: { type: "string", default: "5" },
    seed: { type: "string", default: "1" },
  },
});
const NODES = Number(values.nodes);
const EDGES = Number(values.edges);
const SOURCES = Number(values.sources);
const EVENTS = Number(values.events);
const OPERATIONS = Number(values.operations);
const RUNS = Number(values.runs);

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(Number(values.seed));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Runs `f` RUNS times; returns the median time in ms and the last result. */
function time<T>(f: () => T, runs = RUNS): { ms: number; result: T } {
  const times: number[] = [];
  let result: T | undefined;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    result = f();
    times.push(performance.now() - t);
  }
  return { ms: median(times), result: result as T };
}

/**
 * Runs each contender RUNS times, round-robin (so that load and garbage
 * collection fall on all of them alike); median ms and last result of each.
 */
function compare<K extends string, T>(
  contenders: Record<K, () => T>,
): Record<K, { ms: number; result: T }> {
  const names = Object.keys(contenders) as K[];
  const times = new Map<K, number[]>(names.map((n) => [n, []]));
  const results = new Map<K, T>();
  for (let i = 0; i < RUNS; i++) {
    for (const n of names) {
      const t = performance.now();
      results.set(n, contenders[n]());
      times.get(n)!.push(performance.now() - t);
    }
  }
  return Object.fromEntries(
    names.map((n) => [n, { ms: median(times.get(n)!), result: results.get(n) as T }]),
  ) as Record<K, { ms: number; result: T }>;
}

const rows: [string, string][] = [];
function report(what: string, figure: string): void {
  rows.push([what, figure]);
  console.log(`${what.padEnd(62)} ${figure}`);
}
const ms = (x: number) => `${x.toFixed(1)} ms`;
const ratio = (graphology: number, ours: number) => `${(graphology / ours).toFixed(2)}×`;

// ---- 1. the DAG ----------------------------------------------------------

// A hidden topological order (rank) and node keys inserted in another order.
const keys = Array.from({ length: NODES }, (_, i) => `n${i}`);
const rank = keys.map((_, i) => i);
for (let i = rank.length - 1; i > 0; i--) {
  const j = Math.floor(random() * (i + 1));
  [rank[i], rank[j]] = [rank[j], rank[i]];
}
const byRank = new Array<string>(NODES);
rank.forEach((r, i) => (byRank[r] = keys[i]));
const edges: [string, string][] = [];
const seen = new Set<string>();
while (edges.length < EDGES) {
  const a = Math.floor(random() * NODES);
  const b = Math.floor(random() * NODES);
  if (a === b) continue;
  const [lo, hi] = a < b ? [a, b] : [b, a];
  const id = `${lo},${hi}`;
  if (seen.has(id)) continue;
  seen.add(id);
  edges.push([byRank[lo], byRank[hi]]);
}
console.log(
  `flowgraph bench: DAG ${NODES} nodes / ${EDGES} edges, ${SOURCES} sources, ${EVENTS} events, ` +
    `${OPERATIONS} operations, median of ${RUNS} runs, Deno ${Deno.version.deno}`,
);

function buildFlow(acyclic: boolean): FlowGraph {
  const g = new FlowGraph({ acyclic });
  for (const k of keys) g.addNode(k, {});
  for (const [a, b] of edges) g.addEdge(a, b, {});
  return g;
}
function buildGraphology(): DirectedGraph {
  const g = new DirectedGraph({ allowSelfLoops: false, multi: false });
  for (const k of keys) g.addNode(k);
  for (const [a, b] of edges) g.addDirectedEdge(a, b);
  return g;
}
const builds = compare({
  acyclic: () => buildFlow(true),
  plain: () => buildFlow(false),
  graphology: () => buildGraphology() as DirectedGraph | FlowGraph,
});
const flowAcyclic = builds.acyclic as { ms: number; result: FlowGraph };
const flowPlain = builds.plain;
const graphology = builds.graphology as { ms: number; result: DirectedGraph };
report("build, graphology addDirectedEdge (no cycle check)", ms(graphology.ms));
report(
  "build, FlowGraph (no cycle check)",
  `${ms(flowPlain.ms)}  ratio ${ratio(graphology.ms, flowPlain.ms)}`,
);
report(
  "build, FlowGraph acyclic (every edge checked)",
  `${ms(flowAcyclic.ms)}  ratio ${ratio(graphology.ms, flowAcyclic.ms)}`,
);
{
  // graphology-dag's willCreateCycle before each edge, on a 10 s budget: it
  // searches without remembering visited nodes, so it slows down sharply.
  const g = new DirectedGraph({ allowSelfLoops: false, multi: false });
  for (const k of keys) g.addNode(k);
  const budget = 10_000;
  const t = performance.now();
  let n = 0;
  for (const [a, b] of edges) {
    if (performance.now() - t > budget) break;
    if (!willCreateCycle(g, a, b)) g.addDirectedEdge(a, b);
    n++;
  }
  const took = performance.now() - t;
  const perEdgeOurs = flowAcyclic.ms / EDGES;
  report(
    "build, graphology + willCreateCycle per edge (10 s budget)",
    `${n}/${EDGES} edges in ${ms(took)} (${(took / n * 1000).toFixed(1)} µs/edge vs ` +
      `${(perEdgeOurs * 1000).toFixed(1)} µs/edge acyclic FlowGraph)`,
  );
}

// ---- 2. topological order ------------------------------------------------

const dag = flowAcyclic.result;
const gdag = graphology.result;
const topo = compare({ ours: () => dag.topologicalOrder(), theirs: () => topologicalSort(gdag) });
const topoOurs = topo.ours;
const topoTheirs = topo.theirs;
report("topological order, graphology-dag topologicalSort", ms(topoTheirs.ms));
report(
  "topological order, FlowGraph.topologicalOrder",
  `${ms(topoOurs.ms)}  ratio ${ratio(topoTheirs.ms, topoOurs.ms)}`,
);
{
  const at = new Map(topoOurs.result.map((k, i) => [k, i]));
  for (const [a, b] of edges) {
    if ((at.get(a) as number) >= (at.get(b) as number)) throw new Error("bad topological order");
  }
}

// ---- 3. reachability -----------------------------------------------------

const sources = Array.from({ length: SOURCES }, () => keys[Math.floor(random() * NODES)]);
const reach = compare({
  ours: () => dag.reachable(sources),
  theirs: () => {
    const all = new Set<string>();
    for (const s of sources) bfsFromNode(gdag, s, (k) => void all.add(k));
    return all;
  },
  each: () => {
    const all = new Set<string>();
    for (const s of sources) for (const k of dag.reachable([s])) all.add(k);
    return all;
  },
});
const reachOurs = reach.ours;
const reachTheirs = reach.theirs;
const reachEach = reach.each;
if (reachOurs.result.size !== reachTheirs.result.size) throw new Error("reachability differs");
report(
  `reachability from ${SOURCES} sources, bfsFromNode per source`,
  `${ms(reachTheirs.ms)} (${reachTheirs.result.size} nodes reached)`,
);
report(
  `reachability from ${SOURCES} sources, FlowGraph.reachable (one pass)`,
  `${ms(reachOurs.ms)}  ratio ${ratio(reachTheirs.ms, reachOurs.ms)}`,
);
report(
  `reachability from ${SOURCES} sources, FlowGraph.reachable per source`,
  `${ms(reachEach.ms)}  ratio ${ratio(reachTheirs.ms, reachEach.ms)}`,
);

// ---- 4. call-graph ingestion ---------------------------------------------

/** EVENTS call events: trees of a parent and 0–3 children, interleaved. */
function callEvents(): CallEventLike[] {
  const out: CallEventLike[] = [];
  const base = Date.now();
  let n = 0;
  const at = () => base + out.length * 0.01; // 100k events/s of simulated time
  while (out.length < EVENTS) {
    const p = `call-${n++}`;
    const op = `svc${n % 10}/op${n % 50}`;
    out.push({ type: "requested", id: p, operation: op, at: at() });
    out.push({ type: "running", id: p, operation: op, at: at() });
    const kids = n % 4;
    for (let k = 0; k < kids; k++) {
      const c = `${p}.${k}`;
      out.push({ type: "requested", id: c, parentId: p, operation: "db/query", at: at() });
      out.push({ type: "running", id: c, operation: "db/query", at: at() });
      if (k === 2) {
        out.push({ type: "failed", id: c, operation: "db/query", at: at(), code: "TIMEOUT" });
      } else out.push({ type: "completed", id: c, operation: "db/query", at: at() });
    }
    out.push({ type: n % 17 === 0 ? "aborted" : "completed", id: p, operation: op, at: at() });
  }
  return out.slice(0, EVENTS);
}
const events = callEvents();
const rate = (t: number) => `${Math.round(EVENTS / (t / 1000)).toLocaleString("en")} events/s`;
const ingest = compare({
  graph: () => {
    const g = new CallGraph();
    for (const e of events) g.apply(e);
    return g.size;
  },
  recorder: () => {
    const r = new CallRecorder(); // the node default: 10 000 calls, 10 minutes
    for (const e of events) r.record(e);
    return r.stats().evicted;
  },
  watched: () => {
    const r = new CallRecorder();
    let n = 0;
    r.subscribe(() => void n++);
    for (const e of events) r.record(e);
    return n;
  },
  graphology: () => ingestIntoGraphology(),
});
const ingestGraph = ingest.graph;
const ingestRecorder = ingest.recorder;
const ingestWatched = ingest.watched;
const ingestGraphology = ingest.graphology;
function ingestIntoGraphology(): number {
  // The same bounded call graph kept in graphology instead of maps.
  const g = new DirectedGraph({ allowSelfLoops: false, multi: false });
  const finished: string[] = [];
  let head = 0;
  for (const e of events) {
    if (e.type === "requested") {
      g.addNode(e.id, { status: "pending", operation: e.operation, requestedAt: e.at });
      if (e.parentId !== undefined && g.hasNode(e.parentId)) g.addDirectedEdge(e.parentId, e.id);
    } else if (g.hasNode(e.id)) {
      const a = g.getNodeAttributes(e.id);
      a.status = e.type;
      if (e.type !== "running") {
        a.endedAt = e.at;
        finished.push(e.id);
      }
    }
    while (g.order > 10_000 && head < finished.length) {
      const id = finished[head++];
      if (g.hasNode(id)) g.dropNode(id);
    }
  }
  return g.order;
}
report(
  `call graph, ${EVENTS} events, CallGraph.apply (unbounded)`,
  `${ms(ingestGraph.ms)}  ${rate(ingestGraph.ms)}`,
);
report(
  `call graph, ${EVENTS} events, CallRecorder (bounded 10k)`,
  `${ms(ingestRecorder.ms)}  ${rate(ingestRecorder.ms)}  (evicted ${ingestRecorder.result} calls)`,
);
report(
  `call graph, ${EVENTS} events, CallRecorder + 1 listener`,
  `${ms(ingestWatched.ms)}  ${rate(ingestWatched.ms)}`,
);
report(
  `call graph, ${EVENTS} events, same in graphology (bounded 10k)`,
  `${ms(ingestGraphology.ms)}  ${rate(ingestGraphology.ms)}  ratio ${
    ratio(ingestGraphology.ms, ingestRecorder.ms)
  }`,
);

// ---- 5. pictures ---------------------------------------------------------

const specs = manyOperations(OPERATIONS);
const opGraph = time(() => buildOperationGraph(specs));
report(
  `operation graph of ${OPERATIONS} operations (${opGraph.result.edgeCount} edges)`,
  ms(opGraph.ms),
);
const dot = time(() => toDot(operationDrawing(opGraph.result)));
report("  drawing + DOT text", `${ms(dot.ms)} (${dot.result.length} bytes)`);
{
  const t = performance.now();
  const first = await renderSvg(dot.result);
  report(
    "  SVG, first render (loads the WebAssembly Graphviz)",
    `${ms(performance.now() - t)} (${first.length} bytes)`,
  );
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const s = performance.now();
    await renderSvg(dot.result);
    times.push(performance.now() - s);
  }
  report("  SVG, WebAssembly Graphviz (loaded)", ms(median(times)));
}
try {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const s = performance.now();
    const child = new Deno.Command("dot", { args: ["-Tsvg"], stdin: "piped", stdout: "piped" })
      .spawn();
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(dot.result));
    await w.close();
    const out = await child.output();
    if (out.code !== 0) throw new Error("dot failed");
    times.push(performance.now() - s);
  }
  report("  SVG, Debian's dot -Tsvg (a process per render)", ms(median(times)));
} catch (e) {
  report("  SVG, Debian's dot -Tsvg", `not measured (${e instanceof Error ? e.message : e})`);
}
