import assert from "node:assert/strict";
import { callDuration, CallGraph, checkSnapshot } from "./call_graph.ts";
import type { CallEventLike, CallEventType } from "./call_events.ts";
import { CALL_TRANSITIONS, type CallStatus, canTransition, isTerminal } from "./call_status.ts";
import { FlowgraphError, type FlowgraphErrorCode } from "./errors.ts";

function refused(code: FlowgraphErrorCode, f: () => unknown): FlowgraphError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof FlowgraphError, String(e));
    assert.equal(e.code, code);
    return e;
  }
  assert.fail(`expected ${code}`);
}

let clock = 0;
function ev(type: CallEventType, id: string, extra: Partial<CallEventLike> = {}): CallEventLike {
  return { type, id, operation: `op/${id}`, at: ++clock, ...extra };
}

Deno.test("event sequences end in the expected status", () => {
  const table: [CallEventType[], CallStatus, string | undefined][] = [
    [["requested"], "pending", undefined],
    [["requested", "running"], "running", undefined],
    [["requested", "running", "completed"], "completed", undefined],
    [["requested", "running", "failed"], "failed", "TIMEOUT"],
    [["requested", "running", "aborted"], "aborted", undefined],
    [["requested", "failed"], "failed", "TIMEOUT"], // refused by a check
    [["requested", "aborted"], "aborted", undefined],
  ];
  for (const [types, status, code] of table) {
    const g = new CallGraph();
    for (const t of types) g.apply(ev(t, "c", t === "failed" ? { code: "TIMEOUT" } : {}));
    const r = g.get("c")!;
    assert.equal(r.status, status, types.join(","));
    assert.equal(r.code, code);
    assert.equal(r.runningAt !== undefined, types.includes("running"));
    assert.equal(r.endedAt !== undefined, isTerminal(status));
  }
});

Deno.test("every transition outside the table is refused and changes nothing", () => {
  // Written out by hand, independently of CALL_TRANSITIONS.
  const allowed: Record<CallStatus, CallEventType[]> = {
    pending: ["running", "failed", "aborted"],
    running: ["completed", "failed", "aborted"],
    completed: [],
    failed: [],
    aborted: [],
  };
  const reach: Record<CallStatus, CallEventType[]> = {
    pending: [],
    running: ["running"],
    completed: ["running", "completed"],
    failed: ["failed"],
    aborted: ["aborted"],
  };
  const moves: CallEventType[] = ["running", "completed", "failed", "aborted"];
  for (const from of Object.keys(allowed) as CallStatus[]) {
    assert.deepEqual([...CALL_TRANSITIONS[from]].sort(), [...allowed[from]].sort());
    for (const to of moves) {
      const g = new CallGraph();
      g.apply(ev("requested", "c"));
      for (const step of reach[from]) g.apply(ev(step, "c"));
      assert.equal(g.get("c")!.status, from);
      const ok = allowed[from].includes(to);
      assert.equal(canTransition(from, to as CallStatus), ok);
      if (ok) {
        assert.equal(g.apply(ev(to, "c")).status, to);
      } else {
        const before = { ...g.get("c")! };
        const e = refused("INVALID_TRANSITION", () => g.apply(ev(to, "c")));
        assert.equal(e.key, "c");
        assert.deepEqual({ ...g.get("c")! }, before);
      }
    }
  }
});

Deno.test("duplicate requests, unknown calls and self-parents are refused", () => {
  const g = new CallGraph();
  g.apply(ev("requested", "a"));
  refused("DUPLICATE_CALL", () => g.apply(ev("requested", "a")));
  refused("UNKNOWN_CALL", () => g.apply(ev("running", "zz")));
  refused("INVALID_EVENT", () => g.apply(ev("requested", "b", { parentId: "b" })));
  assert.equal(g.size, 1);
  refused("UNKNOWN_CALL", () => g.lineage("zz"));
  refused("UNKNOWN_CALL", () => g.children("zz"));
});

/**
 * The order @alknet/call's dispatcher emits for a handler that composes two
 * children, the first one before its own first await: the child is
 * requested (and running) before the parent is reported running.
 */
function tree(): CallGraph {
  const g = new CallGraph();
  const steps: CallEventLike[] = [
    { type: "requested", id: "p", operation: "orders/place", at: 100 },
    { type: "requested", id: "c1", parentId: "p", operation: "stock/reserve", at: 101 },
    { type: "running", id: "c1", operation: "stock/reserve", at: 101 },
    { type: "running", id: "p", operation: "orders/place", at: 102 },
    { type: "requested", id: "g1", parentId: "c1", operation: "db/write", at: 103 },
    { type: "running", id: "g1", operation: "db/write", at: 104 },
    { type: "requested", id: "c2", parentId: "p", operation: "pay/charge", at: 105 },
    { type: "failed", id: "c2", operation: "pay/charge", at: 106, code: "FORBIDDEN" },
    { type: "completed", id: "g1", operation: "db/write", at: 110 },
    { type: "requested", id: "g2", parentId: "c1", operation: "db/write", at: 111 },
    { type: "running", id: "g2", operation: "db/write", at: 112 },
    { type: "requested", id: "other", operation: "node/ping", at: 113 },
    { type: "requested", id: "orphan", parentId: "elsewhere", operation: "x/y", at: 114 },
  ];
  for (const s of steps) g.apply(s);
  return g;
}

Deno.test("parents and children: roots, lineage, descendants, cascade, durations", () => {
  const g = tree();
  const ids = (rs: { id: string }[]) => rs.map((r) => r.id);
  assert.deepEqual(ids(g.roots()), ["p", "other", "orphan"]);
  assert.deepEqual(ids(g.children("p")), ["c1", "c2"]);
  assert.deepEqual(ids(g.children("c1")), ["g1", "g2"]);
  assert.deepEqual(ids(g.children("g1")), []);
  assert.equal(g.parent("g2")?.id, "c1");
  assert.equal(g.parent("p"), undefined);
  assert.equal(g.parent("orphan"), undefined);
  assert.deepEqual(ids(g.lineage("g2")), ["p", "c1", "g2"]);
  assert.deepEqual(ids(g.lineage("orphan")), ["orphan"]);
  assert.deepEqual(ids(g.descendants("p")), ["c1", "c2", "g1", "g2"]);
  // Aborting p cancels what is still pending or running below it.
  assert.deepEqual(g.cascade("p"), ["c1", "g2"]);
  assert.deepEqual(g.cascade("c2"), []);
  assert.equal(g.get("c2")!.code, "FORBIDDEN");
  assert.equal(g.duration("g1"), 7);
  assert.equal(g.duration("g2", 150), 39);
  assert.equal(callDuration({ ...g.get("p")!, requestedAt: 200 }, 150), 0);
  assert.equal(g.oldest()?.id, "p");
});

Deno.test("deleting a call leaves its children as roots", () => {
  const g = tree();
  assert.equal(g.delete("c1"), true);
  assert.equal(g.delete("c1"), false);
  assert.deepEqual(g.children("p").map((r) => r.id), ["c2"]);
  assert.deepEqual(g.roots().map((r) => r.id), ["p", "g1", "g2", "other", "orphan"]);
  assert.deepEqual(g.lineage("g1").map((r) => r.id), ["g1"]);
  g.clear();
  assert.equal(g.size, 0);
  assert.equal(g.oldest(), undefined);
});

Deno.test("toFlowGraph: parent → child edges over copies of the records", () => {
  const f = tree().toFlowGraph();
  assert.equal(f.nodeCount, 7);
  assert.deepEqual(f.edges().map((e) => `${e.source}>${e.target}`).sort(), [
    "c1>g1",
    "c1>g2",
    "p>c1",
    "p>c2",
  ]);
  assert.deepEqual([...f.descendants("p")].sort(), ["c1", "c2", "g1", "g2"]);
  assert.deepEqual(f.getNode("c2"), {
    id: "c2",
    operation: "pay/charge",
    parentId: "p",
    status: "failed",
    requestedAt: 105,
    endedAt: 106,
    code: "FORBIDDEN",
  });
});

Deno.test("snapshots round-trip through JSON; malformed ones are refused", () => {
  const g = tree();
  const snap = g.toJSON(500);
  assert.equal(snap.at, 500);
  const back = CallGraph.fromJSON(JSON.parse(JSON.stringify(snap)));
  assert.deepEqual(back.toJSON(500), snap);
  assert.deepEqual(back.cascade("p"), ["c1", "g2"]);
  // Children listed before their parent are still linked.
  const reversed = CallGraph.fromJSON({ at: 0, calls: [...snap.calls].reverse() });
  assert.deepEqual(reversed.descendants("p").map((r) => r.id).sort(), ["c1", "c2", "g1", "g2"]);
  const bad: unknown[] = [
    null,
    { calls: [] },
    { at: 0, calls: {} },
    { at: 0, calls: [{ id: "", operation: "a", status: "pending", requestedAt: 0 }] },
    { at: 0, calls: [{ id: "a", operation: "a", status: "sleeping", requestedAt: 0 }] },
    { at: 0, calls: [{ id: "a", operation: "a", status: "pending" }] },
    { at: 0, calls: [{ id: "a", operation: "a", status: "pending", requestedAt: "0" }] },
    { at: 0, calls: [{ id: "a", operation: "a", status: "failed", requestedAt: 0, code: 5 }] },
    { at: 0, calls: [{ id: "a", operation: 1, status: "pending", requestedAt: 0 }] },
    { at: 0, calls: [{ id: "a", operation: "a", status: "pending", requestedAt: 0, parentId: 1 }] },
  ];
  for (const b of bad) refused("INVALID_JSON", () => CallGraph.fromJSON(b));
  const dup = { at: 0, calls: [snap.calls[0], snap.calls[0]] };
  refused("INVALID_JSON", () => CallGraph.fromJSON(dup));
  assert.deepEqual(
    checkSnapshot({
      at: 1,
      calls: [{ id: "a", operation: "x", status: "pending", requestedAt: 0, y: 1 }],
    }),
    { at: 1, calls: [{ id: "a", operation: "x", status: "pending", requestedAt: 0 }] },
  );
});
