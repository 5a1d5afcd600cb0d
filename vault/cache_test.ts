import assert from "node:assert/strict";
import { TtlLruCache } from "./cache.ts";

Deno.test("TtlLruCache: TTL counts from insertion, not from last use", () => {
  let now = 1000;
  const evicted: string[] = [];
  const c = new TtlLruCache<string>({
    ttlMs: 100,
    clock: () => now,
    onEvict: (v) => evicted.push(v),
  });
  c.set("a", "A");
  now = 1099;
  assert.equal(c.get("a"), "A");
  now = 1100;
  assert.equal(c.has("a"), false);
  assert.equal(c.get("a"), undefined);
  assert.deepEqual(evicted, ["A"]);
  assert.equal(c.size, 0);
  assert.deepEqual(c.stats, { hits: 1, misses: 1 });
});

Deno.test("TtlLruCache: least recently used goes first beyond capacity", () => {
  const evicted: string[] = [];
  const c = new TtlLruCache<string>({ capacity: 3, onEvict: (v) => evicted.push(v) });
  c.set("a", "A");
  c.set("b", "B");
  c.set("c", "C");
  c.get("a"); // a is now most recent: order b, c, a
  c.set("d", "D");
  assert.deepEqual(evicted, ["B"]);
  assert.equal(c.get("b"), undefined);
  assert.equal(c.get("a"), "A");
  c.set("e", "E"); // evicts c
  assert.deepEqual(evicted, ["B", "C"]);
  c.set("a", "A2"); // replace evicts the old value
  assert.deepEqual(evicted, ["B", "C", "A"]);
  c.clear();
  assert.deepEqual(evicted.slice(3).sort(), ["A2", "D", "E"]);
  assert.equal(c.size, 0);
});

Deno.test("TtlLruCache: default capacity 64", () => {
  const c = new TtlLruCache<number>();
  for (let i = 0; i < 100; i++) c.set(String(i), i);
  assert.equal(c.size, 64);
  assert.equal(c.get("35"), undefined);
  assert.equal(c.get("36"), 36);
});
