// The published JSON Schemas accept what the package produces (checked with
// ajv, the validator the call protocol uses) and refuse wrong shapes.
import assert from "node:assert/strict";
import Ajv2020 from "ajv/dist/2020.js";
import {
  CALL_EVENT_SCHEMA,
  CALL_GRAPH_SNAPSHOT_SCHEMA,
  FLOW_CALLS_INPUT_SCHEMA,
  FLOW_CALLS_ITEM_SCHEMA,
  OPERATION_GRAPH_SCHEMA,
} from "./schemas.ts";
import { buildOperationGraph } from "./operations.ts";
import { CallRecorder } from "./recorder.ts";
import type { FlowCallsItem } from "./watch.ts";
import { SPECS, TRICKY } from "./testdata/specs.ts";

type Validate = ((v: unknown) => boolean) & { errors?: unknown };
const Ctor = Ajv2020 as unknown as new (o: Record<string, unknown>) => {
  compile(schema: unknown): Validate;
};
const ajv = new Ctor({ allErrors: true, strict: true });

function valid(schema: unknown, value: unknown): boolean {
  return ajv.compile(schema)(value);
}

Deno.test("OPERATION_GRAPH_SCHEMA accepts built operation graphs", () => {
  const json = JSON.parse(JSON.stringify(buildOperationGraph([...SPECS, ...TRICKY])));
  assert.ok(valid(OPERATION_GRAPH_SCHEMA, json));
  assert.ok(!valid(OPERATION_GRAPH_SCHEMA, { ...json, nodes: [{ key: "x" }] }));
  assert.ok(!valid(OPERATION_GRAPH_SCHEMA, { nodes: [], edges: [] }));
});

Deno.test("call schemas accept recorder snapshots and flow/calls items", async () => {
  const r = new CallRecorder({ now: () => 100 });
  const w = r.watch();
  r.record({ type: "requested", id: "p", operation: "a/b", at: 1 });
  r.record({ type: "requested", id: "c", parentId: "p", operation: "a/c", at: 2 });
  r.record({ type: "failed", id: "c", operation: "a/c", at: 3, code: "FORBIDDEN" });
  const items: FlowCallsItem[] = [];
  for (let i = 0; i < 4; i++) {
    const n = await w.next();
    if (!n.done) items.push(JSON.parse(JSON.stringify(n.value)));
  }
  await w.return?.();
  assert.equal(items.length, 4);
  for (const item of items) assert.ok(valid(FLOW_CALLS_ITEM_SCHEMA, item), JSON.stringify(item));
  const snap = JSON.parse(JSON.stringify(r.snapshot()));
  assert.equal(snap.calls.length, 2);
  assert.ok(valid(CALL_GRAPH_SNAPSHOT_SCHEMA, snap));
  assert.ok(!valid(CALL_GRAPH_SNAPSHOT_SCHEMA, { at: 1, calls: [{ id: "x", status: "odd" }] }));
  assert.ok(!valid(FLOW_CALLS_ITEM_SCHEMA, { kind: "event", snapshot: snap }));
  assert.ok(!valid(CALL_EVENT_SCHEMA, { type: "started", id: "x", operation: "a", at: 1 }));
  assert.ok(valid(FLOW_CALLS_INPUT_SCHEMA, null));
  assert.ok(valid(FLOW_CALLS_INPUT_SCHEMA, { snapshot: false }));
  assert.ok(!valid(FLOW_CALLS_INPUT_SCHEMA, { snapshots: false }));
});
