import assert from "node:assert/strict";
import type { CallRecord } from "./call_graph.ts";
import { FinishedCalls } from "./finished.ts";

function call(i: number): CallRecord {
  const r: {
    id: string;
    operation: string;
    status: "completed" | "failed" | "aborted";
    requestedAt: number;
    runningAt?: number;
    endedAt: number;
    parentId?: string;
    code?: string;
  } = {
    // Short ASCII ids are kept as bytes, others as strings.
    id: i % 7 === 0 ? `long-${"x".repeat(60)}-${i}` : i % 11 === 0 ? `ü-${i}` : crypto.randomUUID(),
    operation: `op/${i % 5}`,
    status: (["completed", "failed", "aborted"] as const)[i % 3],
    requestedAt: 1_700_000_000_000 + i,
    endedAt: 1_700_000_000_000 + i + 0.5,
  };
  if (i % 4 !== 0) r.runningAt = 1_700_000_000_000 + i + 0.25;
  if (i % 6 === 0) r.parentId = `p${i}`;
  if (r.status === "failed") r.code = "NOPE";
  return r;
}

Deno.test("finished calls: a growing ring agrees with a plain list through wraps and drops", () => {
  const ring = new FinishedCalls();
  const model: CallRecord[] = [];
  let next = 0;
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let step = 0; step < 5000; step++) {
    if (rand() < 0.55 || model.length === 0) {
      const c = call(next++);
      ring.push(c);
      model.push(c);
    } else {
      ring.dropFirst();
      model.shift();
    }
    if (step % 97 === 0 || step > 4990) {
      assert.equal(ring.size, model.length);
      for (let i = 0; i < model.length; i++) {
        assert.deepEqual(ring.record(i), model[i], `step ${step}, position ${i}`);
        assert.equal(ring.endedAt(i), model[i].endedAt);
      }
    }
  }
  ring.clear();
  assert.equal(ring.size, 0);
  ring.dropFirst(); // nothing to drop: no harm
  const one = call(1);
  ring.push(one);
  assert.deepEqual(ring.record(0), one);
});
