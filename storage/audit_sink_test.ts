import assert from "node:assert/strict";
import { AuditSink } from "./audit_sink.ts";
import { openStore } from "./store.ts";

Deno.test("AuditSink: batches in order, keeps only listed fields, reports lost events", async () => {
  const store = await openStore(":memory:");
  const lost: number[] = [];
  const sink = new AuditSink(store.streams, { maxBatch: 7, onError: (_e, n) => lost.push(n) });
  for (let i = 0; i < 50; i++) {
    sink.write({
      type: "session.closed",
      session: `s${i}`,
      identity: "alice",
      reason: "client",
      destination: "db.internal:5432",
    } as never);
  }
  sink.write({ type: "no.such.kind" } as never);
  await sink.flush();
  const events = await store.streams.read("audit", { limit: 100 });
  assert.deepEqual(events.map((e) => (e.data as { session: string }).session), [
    ...Array.from({ length: 50 }, (_, i) => `s${i}`),
  ]);
  assert.ok(events.every((e) => !JSON.stringify(e).includes("db.internal")));
  assert.deepEqual(lost, [1]);
  await store.close();
  sink.write({ type: "config.reloaded", ok: true });
  await sink.flush();
  assert.deepEqual(lost, [1, 1]);
});

Deno.test("AuditSink: a full queue drops and says how many", async () => {
  const store = await openStore(":memory:");
  const lost: number[] = [];
  const sink = new AuditSink(store.streams, { maxQueued: 3, onError: (_e, n) => lost.push(n) });
  for (let i = 0; i < 5; i++) sink.write({ type: "config.reloaded", ok: true });
  await sink.flush();
  assert.equal(await store.streams.head("audit"), 3);
  assert.deepEqual(lost, [2]);
  await store.close();
});
