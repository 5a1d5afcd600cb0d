import assert from "node:assert/strict";
import { appendAudit, auditRecord } from "./audit.ts";
import { StorageError } from "./errors.ts";
import type { StreamEvent } from "./streams.ts";
import { backendTest, eventually } from "./testing/backends.ts";

async function rejects(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e) => e instanceof StorageError && e.code === code);
}

backendTest("streams: append, read from any offset, head, topics", async ({ open }) => {
  const store = await open();
  assert.equal(await store.streams.append("t", { type: "a", data: { n: 1 } }), 1);
  assert.deepEqual(
    await store.streams.appendMany("t", [{ type: "b" }, { type: "c", data: [1, "x", null] }]),
    { first: 2, last: 3 },
  );
  await store.streams.append("u", { type: "z" });
  const all = await store.streams.read("t");
  assert.deepEqual(all.map((e) => [e.seq, e.type, e.data]), [
    [1, "a", { n: 1 }],
    [2, "b", null],
    [3, "c", [1, "x", null]],
  ]);
  assert.ok(all.every((e) => e.topic === "t" && typeof e.at === "number"));
  assert.deepEqual((await store.streams.read("t", { from: 2, limit: 1 })).map((e) => e.seq), [2]);
  assert.deepEqual(await store.streams.read("t", { from: 9 }), []);
  assert.equal(await store.streams.head("t"), 3);
  assert.equal(await store.streams.head("nothing"), 0);
  assert.deepEqual(await store.streams.topics(), [
    { topic: "t", lastSeq: 3 },
    { topic: "u", lastSeq: 1 },
  ]);
  assert.equal(await store.streams.trim("t", 3), 2);
  assert.deepEqual((await store.streams.read("t")).map((e) => e.seq), [3]);
  assert.equal(await store.streams.append("t", { type: "d" }), 4, "numbers are never reused");
});

backendTest("streams: bad input is refused with invalid-input", async ({ open }) => {
  const store = await open();
  await rejects(store.streams.append("", { type: "a" }), "invalid-input");
  await rejects(store.streams.append("has space", { type: "a" }), "invalid-input");
  await rejects(store.streams.append("t", { type: "" }), "invalid-input");
  await rejects(store.streams.append("t", { type: "a", data: 1n }), "invalid-input");
  await rejects(store.streams.appendMany("t", []), "invalid-input");
  await rejects(store.streams.read("t", { limit: 0 }), "invalid-input");
  await rejects(store.streams.commit("t", "c", -1), "invalid-input");
  // A batch with one bad event appends nothing.
  await rejects(
    store.streams.appendMany("t", [{ type: "ok" }, { type: "bad", data: () => 1 }]),
    "invalid-input",
  );
  assert.equal(await store.streams.head("t"), 0);
});

backendTest("streams: two consumers at different offsets", async ({ open }) => {
  const store = await open();
  for (let i = 1; i <= 6; i++) await store.streams.append("jobs", { type: "job", data: i });
  await store.streams.commit("jobs", "fast", 5);
  await store.streams.commit("jobs", "slow", 2);
  await store.streams.commit("jobs", "fast", 3); // late and older: ignored
  assert.equal(await store.streams.offset("jobs", "fast"), 5);
  assert.equal(await store.streams.offset("jobs", "slow"), 2);
  assert.equal(await store.streams.offset("jobs", "nobody"), 0);
  assert.deepEqual(
    (await store.streams.consumers("jobs")).map((c) => [c.consumer, c.offset]),
    [["fast", 5], ["slow", 2]],
  );
  const take = async (consumer: string, n: number) => {
    const got: number[] = [];
    const sub = store.streams.subscribe("jobs", { consumer });
    for await (const e of sub) {
      got.push(e.seq);
      await sub.commit(e.seq);
      if (got.length === n) break;
    }
    return got;
  };
  assert.deepEqual(await take("fast", 1), [6]);
  assert.deepEqual(await take("slow", 3), [3, 4, 5]);
  assert.equal(await store.streams.offset("jobs", "slow"), 5);
  await store.streams.seek("jobs", "slow", 0);
  assert.deepEqual(await take("slow", 2), [1, 2]);
});

backendTest("streams: replay after reopen, then live from another connection", async ({ open }) => {
  const first = await open();
  for (let i = 1; i <= 3; i++) await first.streams.append("log", { type: "line", data: i });
  await first.streams.commit("log", "reader", 1);
  await first.close();

  const reader = await open();
  const writer = await open();
  assert.equal(await reader.streams.offset("log", "reader"), 1);
  const seen: StreamEvent[] = [];
  const controller = new AbortController();
  const done = (async () => {
    for await (
      const e of reader.streams.subscribe("log", {
        consumer: "reader",
        signal: controller.signal,
      })
    ) {
      seen.push(e);
      if (seen.length === 4) controller.abort();
    }
  })();
  await eventually(() => seen.length === 2, "the replay never arrived");
  await writer.streams.append("log", { type: "line", data: 4 });
  await writer.streams.append("log", { type: "line", data: 5 });
  await done;
  assert.deepEqual(seen.map((e) => e.data), [2, 3, 4, 5]);
});

backendTest("streams: subscriptions end on close() and when the store closes", async ({ open }) => {
  const store = await open();
  const sub = store.streams.subscribe("quiet");
  const iterating = (async () => {
    let n = 0;
    for await (const _ of sub) n++;
    return n;
  })();
  await new Promise((r) => setTimeout(r, 20));
  sub.close();
  assert.equal(await iterating, 0);

  const other = await open();
  const pending = (async () => {
    let n = 0;
    for await (const _ of other.streams.subscribe("quiet")) n++;
    return n;
  })();
  await new Promise((r) => setTimeout(r, 20));
  await other.close();
  assert.equal(await pending, 0);
});

backendTest(
  "streams: outbox commits a business write with its event, or neither",
  async ({ open }) => {
    const store = await open();
    await store.sql.script("CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT NOT NULL)");
    await store.transaction(async (tx) => {
      await tx.sql.execute("INSERT INTO orders (id, item) VALUES (?, ?)", [1, "book"]);
      await tx.streams.append("orders", { type: "order.placed", data: { id: 1 } });
    });
    await assert.rejects(
      store.transaction(async (tx) => {
        await tx.sql.execute("INSERT INTO orders (id, item) VALUES (?, ?)", [2, "lamp"]);
        await tx.streams.append("orders", { type: "order.placed", data: { id: 2 } });
        throw new Error("payment failed");
      }),
      /payment failed/,
    );
    const rows = await store.sql.query<{ id: number }>("SELECT id FROM orders ORDER BY id");
    assert.deepEqual(rows.map((r) => Number(r.id)), [1]);
    assert.deepEqual((await store.streams.read("orders")).map((e) => e.data), [{ id: 1 }]);
    assert.equal(await store.streams.head("orders"), 1, "the rolled-back number is not used");
    assert.equal(await store.streams.append("orders", { type: "x" }), 2);
  },
);

backendTest("streams: concurrent appenders get dense, unique numbers", async ({ open }) => {
  const a = await open();
  const b = await open();
  await Promise.all([
    ...Array.from({ length: 20 }, (_, i) => a.streams.append("race", { type: "a", data: i })),
    ...Array.from({ length: 20 }, (_, i) =>
      b.streams.appendMany("race", [
        { type: "b", data: i },
        { type: "b", data: i },
      ])),
  ]);
  const events = await a.streams.read("race", { limit: 1000 });
  assert.deepEqual(events.map((e) => e.seq), Array.from({ length: 60 }, (_, i) => i + 1));
});

backendTest("audit: events keep their listed fields only", async ({ open }) => {
  const store = await open();
  await appendAudit(store.streams, {
    type: "session.closed",
    session: "s1",
    identity: "alice",
    reason: "peer-disabled",
    durationMs: 1200,
    destination: "db.internal:5432",
  } as never);
  const [e] = await store.streams.read("audit");
  assert.equal(e.type, "session.closed");
  assert.deepEqual(e.data, {
    session: "s1",
    identity: "alice",
    reason: "peer-disabled",
    durationMs: 1200,
  });
  assert.ok(!JSON.stringify(e).includes("db.internal"));
});

Deno.test("audit: unknown types are refused, long text is cut", () => {
  assert.throws(() => auditRecord({ type: "tunnel.opened" } as never), StorageError);
  const r = auditRecord({
    type: "login.refused",
    remote: "192.0.2.1:1",
    method: "token",
    reason: "x".repeat(2000),
  });
  assert.equal((r.data as { reason: string }).reason.length, 512);
});
