import assert from "node:assert/strict";
import { type CallEnvelopeLike, checkCallEvent, eventsFromEnvelope } from "./call_events.ts";
import { CallGraph } from "./call_graph.ts";
import { FlowgraphError } from "./errors.ts";

const req = (id: string, op = "/node/ping"): CallEnvelopeLike => ({
  type: "call.requested",
  id,
  payload: { operationId: op, input: {} },
});
const responded = (id: string): CallEnvelopeLike => ({
  type: "call.responded",
  id,
  payload: { output: 1 },
});
const completed = (id: string): CallEnvelopeLike => ({ type: "call.completed", id, payload: {} });
const aborted = (id: string): CallEnvelopeLike => ({ type: "call.aborted", id, payload: {} });
const error = (id: string, code: string): CallEnvelopeLike => ({
  type: "call.error",
  id,
  payload: { code, message: "m", retryable: false },
});

const isSubscription = (op: string) => op === "node/ticks";

Deno.test("wire envelopes → call statuses", () => {
  const table: [string, CallEnvelopeLike[], string][] = [
    ["query answered", [req("a"), responded("a")], "completed"],
    ["query failed", [req("a"), error("a", "NOT_FOUND")], "failed:NOT_FOUND"],
    ["query aborted", [req("a"), aborted("a")], "aborted"],
    ["abort after the answer is ignored", [req("a"), responded("a"), aborted("a")], "completed"],
    ["abort of an unknown id is ignored", [aborted("zz"), req("a")], "pending"],
    ["subscription: items keep it running", [
      req("s", "/node/ticks"),
      responded("s"),
      responded("s"),
    ], "running"],
    ["subscription completed", [
      req("s", "/node/ticks"),
      responded("s"),
      responded("s"),
      completed("s"),
    ], "completed"],
    [
      "subscription completed without items",
      [req("s", "/node/ticks"), completed("s")],
      "completed",
    ],
    ["subscription aborted", [req("s", "/node/ticks"), responded("s"), aborted("s")], "aborted"],
    [
      "subscription error",
      [req("s", "/node/ticks"), responded("s"), error("s", "TIMEOUT")],
      "failed:TIMEOUT",
    ],
  ];
  for (const [name, envelopes, expected] of table) {
    const g = new CallGraph();
    for (const e of envelopes) g.applyEnvelope(e, { at: 1, isSubscription });
    const id = envelopes.filter((e) => e.type === "call.requested").at(-1)!.id;
    const r = g.get(id)!;
    assert.equal(r.code === undefined ? r.status : `${r.status}:${r.code}`, expected, name);
  }
});

Deno.test("envelopes the call graph refuses: answers after the end, unknown ids", () => {
  const g = new CallGraph();
  g.applyEnvelope(req("a"));
  g.applyEnvelope(responded("a"));
  for (const late of [responded("a"), completed("a"), error("a", "INTERNAL")]) {
    assert.throws(
      () => g.applyEnvelope(late),
      (e) => e instanceof FlowgraphError && e.code === "INVALID_TRANSITION",
    );
  }
  assert.throws(
    () => g.applyEnvelope(responded("nobody")),
    (e) => e instanceof FlowgraphError && e.code === "UNKNOWN_CALL",
  );
  assert.throws(
    () => g.applyEnvelope(req("a")),
    (e) => e instanceof FlowgraphError && e.code === "DUPLICATE_CALL",
  );
  assert.equal(g.applyEnvelope(aborted("a")), undefined);
});

Deno.test("eventsFromEnvelope: operation names, times, malformed envelopes", () => {
  assert.deepEqual(eventsFromEnvelope(req("x", "/a/b"), undefined, { at: 7 }), [
    { type: "requested", id: "x", operation: "a/b", at: 7 },
  ]);
  assert.deepEqual(eventsFromEnvelope(req("x", "a/b"), undefined, { at: 7 })[0].operation, "a/b");
  assert.deepEqual(
    eventsFromEnvelope(error("x", "TIMEOUT"), { status: "running", operation: "a/b" }, { at: 9 }),
    [{ type: "failed", id: "x", operation: "a/b", at: 9, code: "TIMEOUT" }],
  );
  for (
    const bad of [
      { type: "call.requested", id: "x", payload: {} },
      { type: "call.requested", id: "x" },
      { type: "call.progress", id: "x", payload: {} },
    ]
  ) {
    assert.throws(
      () => eventsFromEnvelope(bad, undefined),
      (e) => e instanceof FlowgraphError && e.code === "INVALID_EVENT",
    );
  }
});

Deno.test("checkCallEvent accepts observer events and refuses malformed ones", () => {
  const good = { type: "failed", id: "c", parentId: "p", operation: "a/b", at: 3, code: "X" };
  assert.deepEqual(checkCallEvent(good), good);
  for (
    const bad of [
      null,
      { ...good, type: "started" },
      { ...good, id: "" },
      { ...good, operation: 1 },
      { ...good, at: "3" },
      { ...good, at: Infinity },
      { ...good, parentId: 1 },
      { ...good, code: 1 },
    ]
  ) {
    assert.throws(
      () => checkCallEvent(bad),
      (e) => e instanceof FlowgraphError && e.code === "INVALID_EVENT",
      JSON.stringify(bad),
    );
  }
});
