import assert from "node:assert/strict";
import fc from "fast-check";
import { CallRecorder, type Step } from "./recorder.ts";
import type { FlowCallsItem } from "./watch.ts";
import { checkFlowCallsItem, followCalls } from "./follow.ts";
import type { CallEventLike, CallEventType } from "./call_events.ts";
import { FlowgraphError } from "./errors.ts";

const ev = (type: CallEventType, id: string, at: number, parentId?: string): CallEventLike => {
  const e: CallEventLike = { type, id, operation: `op/${id}`, at };
  if (parentId !== undefined) e.parentId = parentId;
  return e;
};

/** The field-by-field intake `@alknet/call`'s dispatcher uses (`Symbol.for("alknet.call.step")`). */
function stepOf(r: CallRecorder): Step {
  return (r.observer as unknown as Record<symbol, Step>)[Symbol.for("alknet.call.step")];
}

function run(r: CallRecorder, id: string, at: number, end = true): void {
  r.record(ev("requested", id, at));
  r.record(ev("running", id, at));
  if (end) r.record(ev("completed", id, at + 1));
}

Deno.test("recorder: bounded by count, finished calls dropped first", () => {
  const r = new CallRecorder({ maxCalls: 3, maxAgeMs: Infinity });
  run(r, "live", 0, false);
  run(r, "a", 1);
  run(r, "b", 2);
  run(r, "c", 3); // 4 calls: a (first finished) goes
  assert.deepEqual(r.graph.calls().map((c) => c.id), ["live", "b", "c"]);
  run(r, "d", 4);
  assert.deepEqual(r.graph.calls().map((c) => c.id), ["live", "c", "d"]);
  assert.equal(r.stats().evicted, 2);
  // A call that finishes later is dropped later, whatever its request time.
  r.record(ev("completed", "live", 10));
  run(r, "e", 11);
  assert.deepEqual(r.graph.calls().map((c) => c.id), ["live", "d", "e"]);
});

Deno.test("recorder: live calls alone beyond the bound drop the oldest", () => {
  const r = new CallRecorder({ maxCalls: 2 });
  for (const id of ["x", "y", "z"]) r.record(ev("requested", id, 0));
  assert.deepEqual(r.graph.calls().map((c) => c.id), ["y", "z"]);
  // Later events of the dropped call are refused and counted, never thrown.
  assert.equal(r.record(ev("running", "x", 1)), false);
  assert.deepEqual(r.stats(), {
    calls: 2,
    recorded: 3,
    refused: 1,
    evicted: 1,
    lastRefused: "UNKNOWN_CALL",
  });
});

Deno.test("recorder: bounded by age, measured on event times and the clock", () => {
  let now = 0;
  const r = new CallRecorder({ maxAgeMs: 100, now: () => now });
  run(r, "old", 0); // ends at 1
  run(r, "mid", 50); // ends at 51
  run(r, "live", 60, false);
  run(r, "new", 140); // event time 141: "old" ended 140 ms before
  assert.deepEqual(r.graph.calls().map((c) => c.id), ["mid", "live", "new"]);
  now = 200; // snapshot() prunes with the clock: mid ended at 51 < 100
  assert.deepEqual(r.snapshot().calls.map((c) => c.id), ["live", "new"]);
  assert.equal(r.snapshot().at, 200);
  now = 1000;
  assert.equal(r.prune(), 1);
  assert.deepEqual(r.graph.calls().map((c) => c.id), ["live"]); // running calls never age out
  assert.equal(r.stats().evicted, 3);
});

Deno.test("recorder: bad options are refused", () => {
  for (const o of [{ maxCalls: 0 }, { maxCalls: -1 }, { maxCalls: NaN }, { maxAgeMs: -5 }]) {
    assert.throws(
      () => new CallRecorder(o),
      (e) => e instanceof FlowgraphError && e.code === "INVALID_OPTION",
    );
  }
  assert.throws(
    () => new CallRecorder().watch({ maxBuffered: 0 }),
    (e) => e instanceof FlowgraphError && e.code === "INVALID_OPTION",
  );
});

Deno.test("recorder: listeners see each recorded event; a throwing listener harms nothing", () => {
  const r = new CallRecorder();
  const seen: string[] = [];
  const stopBad = r.subscribe(() => {
    throw new Error("listener bug");
  });
  const stop = r.subscribe((e, c) => seen.push(`${e.type}:${c.id}:${c.status}`));
  run(r, "a", 0);
  r.record(ev("completed", "a", 5)); // refused: not delivered
  stop();
  stopBad();
  run(r, "b", 0);
  assert.deepEqual(seen, ["requested:a:pending", "running:a:running", "completed:a:completed"]);
  assert.equal(r.graph.get("b")?.status, "completed");
});

Deno.test("recorder: the observer is a bound function that never throws", () => {
  const r = new CallRecorder();
  const observe = r.observer;
  observe(ev("requested", "p", 0));
  observe(ev("requested", "c", 1, "p"));
  observe(ev("requested", "p", 2)); // duplicate: refused
  observe(null as unknown as CallEventLike); // garbage: refused
  assert.deepEqual(r.graph.cascade("p"), ["c"]);
  assert.equal(r.stats().refused, 2);
});

Deno.test("recorder: wire envelopes", () => {
  const r = new CallRecorder();
  assert.equal(
    r.recordEnvelope({ type: "call.requested", id: "a", payload: { operationId: "/x/y" } }),
    true,
  );
  assert.equal(r.recordEnvelope({ type: "call.responded", id: "a", payload: { output: 1 } }), true);
  assert.equal(r.graph.get("a")?.status, "completed");
  assert.equal(r.recordEnvelope({ type: "call.responded", id: "a", payload: {} }), false);
  assert.equal(r.recordEnvelope({ type: "bogus", id: "a" }), false);
  assert.equal(r.stats().lastRefused, "INVALID_EVENT");
});

async function take(it: AsyncIterator<FlowCallsItem>, n: number): Promise<FlowCallsItem[]> {
  const out: FlowCallsItem[] = [];
  for (let i = 0; i < n; i++) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

Deno.test("watch: a snapshot, then every later event, in order, with nothing lost", async () => {
  const r = new CallRecorder();
  run(r, "before", 0, false);
  const w = r.watch();
  r.record(ev("completed", "before", 3));
  run(r, "after", 4);
  const items = await take(w, 5);
  assert.equal(items[0].kind, "snapshot");
  assert.deepEqual(
    items[0].kind === "snapshot" ? items[0].snapshot.calls.map((c) => `${c.id}:${c.status}`) : [],
    ["before:running"],
  );
  assert.deepEqual(
    items.slice(1).map((i) => i.kind === "event" ? `${i.event.type}:${i.event.id}` : "?"),
    ["completed:before", "requested:after", "running:after", "completed:after"],
  );
  // A consumer already waiting gets the next event directly.
  const pending = w.next();
  r.record(ev("requested", "later", 9));
  const got = await pending;
  assert.ok(!got.done && got.value.kind === "event" && got.value.event.id === "later");
  assert.deepEqual(await w.return!(), { done: true, value: undefined });
  assert.deepEqual(await w.next(), { done: true, value: undefined });
});

Deno.test("watch: ends on abort, and a waiting consumer is released", async () => {
  const r = new CallRecorder();
  const ac = new AbortController();
  const w = r.watch({ signal: ac.signal, snapshot: false });
  const pending = w.next();
  ac.abort();
  assert.deepEqual(await pending, { done: true, value: undefined });
  run(r, "x", 0);
  assert.deepEqual(await w.next(), { done: true, value: undefined });
  const already = r.watch({ signal: AbortSignal.abort() });
  assert.deepEqual(await already.next(), { done: true, value: undefined });
});

Deno.test("watch: a consumer too far behind gets OVERFLOW after what was buffered", async () => {
  const r = new CallRecorder();
  const w = r.watch({ snapshot: false, maxBuffered: 3 });
  for (const id of ["a", "b", "c", "d", "e"]) r.record(ev("requested", id, 0));
  const items = await take(w, 3);
  assert.deepEqual(items.map((i) => i.kind === "event" ? i.event.id : "?"), ["a", "b", "c"]);
  await assert.rejects(w.next(), (e) => e instanceof FlowgraphError && e.code === "OVERFLOW");
  assert.deepEqual(await w.next(), { done: true, value: undefined });
});

Deno.test("load and followCalls: a client keeps the node's call graph from flow/calls items", async () => {
  const node = new CallRecorder({ now: () => 10 }); // event times are small numbers here
  run(node, "p", 0, false);
  node.record(ev("requested", "c", 1, "p"));
  const stream = node.watch();
  node.record(ev("running", "c", 2));
  node.record(ev("completed", "c", 3));
  node.record(ev("completed", "p", 4));
  // Through JSON, as over the wire.
  const wire = (async function* () {
    for await (const item of stream) yield JSON.parse(JSON.stringify(item));
  })();
  const statuses: string[] = [];
  let n = 0;
  for await (const g of followCalls(wire)) {
    statuses.push(g.calls().map((c) => `${c.id}:${c.status}`).join(","));
    if (++n === 4) break;
  }
  assert.deepEqual(statuses, [
    "p:running,c:pending",
    "p:running,c:running",
    "p:running,c:completed",
    "p:completed,c:completed",
  ]);
  // The client's bounds apply to a loaded snapshot too.
  const small = new CallRecorder({ maxCalls: 1 });
  small.load(node.snapshot());
  assert.deepEqual(small.graph.calls().map((c) => c.id), ["p"]);
  await assert.rejects(
    (async () => {
      for await (
        const _ of followCalls([{ kind: "nope" }].values() as unknown as AsyncIterable<unknown>)
      ) {
        // nothing
      }
    })(),
    (e) => e instanceof FlowgraphError && e.code === "INVALID_EVENT",
  );
  assert.throws(
    () => checkFlowCallsItem({ kind: "snapshot", snapshot: { at: 0 } }),
    (e) => e instanceof FlowgraphError && e.code === "INVALID_JSON",
  );
});

Deno.test("recorder: the graph is built when read after a change; live counts; ids reused after the end", () => {
  const r = new CallRecorder();
  run(r, "p", 0, false);
  r.record(ev("requested", "c", 1, "p"));
  assert.equal(r.live, 2);
  const g = r.graph;
  assert.equal(r.graph, g, "unchanged: the same graph");
  assert.deepEqual(g.cascade("p"), ["c"]);
  r.record(ev("completed", "p", 2)); // the parent ends first; the child still links to it
  assert.notEqual(r.graph, g);
  assert.equal(r.live, 1);
  assert.equal(r.graph.parent("c")?.id, "p");
  assert.equal(r.graph.get("p")?.status, "completed");
  // An event for a finished call is refused; its id may name a new call later.
  assert.equal(r.record(ev("running", "p", 3)), false);
  assert.equal(r.stats().lastRefused, "UNKNOWN_CALL");
  run(r, "p", 4);
  assert.deepEqual(r.graph.calls().map((c) => `${c.id}@${c.requestedAt}`), ["c@1", "p@4"]);
  assert.equal(r.stats().calls, 3, "held: the old p, c and the new p");
});

Deno.test("recorder: the field-by-field intake records the same, and listeners get fresh events", () => {
  const opts = { now: () => 10, maxAgeMs: Infinity };
  const viaObjects = new CallRecorder(opts);
  const viaFields = new CallRecorder(opts);
  const step = stepOf(viaFields);
  assert.equal(typeof step, "function");
  const events: CallEventLike[] = [
    ev("requested", "p", 1),
    ev("running", "p", 2),
    ev("requested", "c", 3, "p"),
    ev("running", "c", 4),
    { type: "failed", id: "c", operation: "op/c", at: 5, code: "TIMEOUT" },
    ev("completed", "p", 6),
    ev("completed", "p", 7), // refused
  ];
  for (const e of events) {
    viaObjects.observer(e);
    step(e.type, e.id, e.operation, e.at, e.parentId, e.code);
  }
  assert.deepEqual(viaFields.snapshot(), viaObjects.snapshot());
  assert.equal(viaFields.snapshot().calls.length, 2);
  assert.deepEqual(viaFields.stats(), viaObjects.stats());
  const seen: CallEventLike[] = [];
  viaFields.subscribe((e) => seen.push(e));
  step("requested", "q", "op/q", 8, undefined, undefined);
  step("running", "q", "op/q", 9, undefined, undefined);
  assert.deepEqual(seen, [ev("requested", "q", 8), ev("running", "q", 9)]);
  assert.notEqual(seen[0], seen[1]);
});

Deno.test("recorder: the field-by-field intake equals the object intake on random event sequences", () => {
  const ids = ["a", "b", "c", "d"];
  const types: CallEventType[] = ["requested", "running", "completed", "failed", "aborted"];
  const event = fc.record({
    type: fc.constantFrom(...types),
    id: fc.constantFrom(...ids),
    parent: fc.option(fc.constantFrom(...ids), { nil: undefined }),
    code: fc.option(fc.constantFrom("TIMEOUT", "INTERNAL"), { nil: undefined }),
    read: fc.boolean(), // read the recorder between events (moves a held call)
  });
  fc.assert(
    fc.property(
      fc.array(event, { maxLength: 40 }),
      fc.integer({ min: 1, max: 5 }),
      (steps, maxCalls) => {
        const opts = { now: () => 1000, maxAgeMs: 30, maxCalls };
        const viaObjects = new CallRecorder(opts);
        const viaFields = new CallRecorder(opts);
        const step = stepOf(viaFields);
        steps.forEach((s, at) => {
          const e: CallEventLike = { type: s.type, id: s.id, operation: `op/${s.id}`, at };
          if (s.parent !== undefined) e.parentId = s.parent;
          if (s.code !== undefined) e.code = s.code;
          viaObjects.observer(e);
          step(e.type, e.id, e.operation, e.at, e.parentId, e.code);
          assert.equal(viaFields.live, viaObjects.live);
          assert.deepEqual(viaFields.stats(), viaObjects.stats());
          if (s.read) assert.deepEqual(viaFields.graph.toJSON(at), viaObjects.graph.toJSON(at));
        });
        assert.deepEqual(viaFields.snapshot(), viaObjects.snapshot());
      },
    ),
    { seed: 0x5eed, numRuns: 500 },
  );
});

Deno.test("recorder: the field-by-field intake tells two calls sharing an id apart by their origin", () => {
  const r = new CallRecorder({ now: () => 10, maxAgeMs: Infinity });
  const step = stepOf(r);
  const a = {}, b = {};
  step("requested", "x", "op/a", 1, undefined, undefined, a);
  step("running", "x", "op/b", 2, undefined, undefined, b); // a is held, not yet in the graph
  step("running", "x", "op/a", 2, undefined, undefined, a);
  step("requested", "x", "op/b", 3, undefined, undefined, b); // DUPLICATE_CALL
  step("completed", "x", "op/b", 3, undefined, undefined, b); // UNKNOWN_CALL: not b's call
  assert.deepEqual(r.snapshot().calls.map((c) => [c.operation, c.status]), [["op/a", "running"]]);
  assert.deepEqual(r.stats(), {
    calls: 1,
    recorded: 2,
    refused: 3,
    evicted: 0,
    lastRefused: "UNKNOWN_CALL",
  });
  step("completed", "x", "op/a", 4, undefined, undefined, a);
  // Once a ended, the id names a new call: b's (a leaves the views).
  step("requested", "x", "op/b", 5, undefined, undefined, b);
  step("running", "x", "op/b", 5, undefined, undefined, b);
  step("failed", "x", "op/b", 6, undefined, "TIMEOUT", b);
  assert.deepEqual(r.snapshot().calls.map((c) => [c.operation, c.status, c.endedAt]), [
    ["op/b", "failed", 6],
  ]);
  assert.equal(r.stats().refused, 3);
  // Plain events name no origin and apply to whichever call has the id.
  step("requested", "y", "op/a", 7, undefined, undefined, a);
  step("running", "y", "op/a", 7, undefined, undefined, a);
  r.observer({ type: "aborted", id: "y", operation: "op/a", at: 8 });
  assert.equal(r.snapshot().calls.at(-1)?.status, "aborted");
  assert.equal(r.live, 0);
});
