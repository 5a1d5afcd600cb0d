import assert from "node:assert/strict";
import { Deadline, TIMED_OUT, withTimeout } from "./timeout.ts";

Deno.test("timeout: the value wins when it comes first", async () => {
  assert.equal(await withTimeout(Promise.resolve(1), 10_000), 1);
  await assert.rejects(withTimeout(Promise.reject(new Error("boom")), 10_000), /boom/);
});

Deno.test("timeout: TIMED_OUT when the timer wins; a late value goes to onLate", async () => {
  let resolveLate!: (v: string) => void;
  const late = new Promise<string>((r) => resolveLate = r);
  const got: string[] = [];
  const r = await withTimeout(late, 1, (v) => got.push(v));
  assert.equal(r, TIMED_OUT);
  resolveLate("conn");
  await late;
  await Promise.resolve();
  assert.deepEqual(got, ["conn"]);
});

Deno.test("timeout: one Deadline across several waits", async () => {
  const d = new Deadline(10_000);
  assert.equal(await d.race(Promise.resolve("a")), "a");
  assert.equal(await d.race(Promise.resolve("b")), "b");
  assert.equal(d.expired, false);
  d.clear();
  const short = new Deadline(1);
  assert.equal(await short.race(new Promise(() => {})), TIMED_OUT);
  assert.equal(short.expired, true);
  short.clear();
});
