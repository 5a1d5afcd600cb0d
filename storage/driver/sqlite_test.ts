import assert from "node:assert/strict";
import { StorageError } from "../errors.ts";
import { Mutex } from "./mutex.ts";
import { openSqlite } from "./sqlite.ts";

Deno.test("mutex: holders run one at a time, in order", async () => {
  const m = new Mutex();
  const order: string[] = [];
  await Promise.all(["a", "b", "c"].map(async (name) => {
    const release = await m.lock();
    order.push(`${name}+`);
    await new Promise((r) => setTimeout(r, 1));
    order.push(`${name}-`);
    release();
  }));
  assert.deepEqual(order, ["a+", "a-", "b+", "b-", "c+", "c-"]);
  assert.equal(m.busy, false);
});

Deno.test("sqlite driver: statements outside a transaction wait for it", async () => {
  const db = openSqlite(":memory:");
  await db.script("CREATE TABLE t (x INTEGER)");
  let inside!: () => void;
  const gate = new Promise<void>((r) => inside = r);
  const tx = db.transaction(async (t) => {
    await t.execute("INSERT INTO t (x) VALUES (1)");
    await gate;
    throw new Error("roll back");
  });
  const outside = db.execute("INSERT INTO t (x) VALUES (2)");
  inside();
  await assert.rejects(tx, /roll back/);
  await outside;
  assert.deepEqual((await db.query<{ x: number }>("SELECT x FROM t")).map((r) => r.x), [2]);
  await db.close();
});

Deno.test("sqlite driver: constraint errors carry their kind", async () => {
  const db = openSqlite(":memory:");
  await db.script(
    "CREATE TABLE p (id TEXT PRIMARY KEY); CREATE TABLE c (p TEXT REFERENCES p (id), n INTEGER NOT NULL CHECK (n > 0))",
  );
  await db.execute("INSERT INTO p (id) VALUES ('a')");
  const kind = async (sql: string) => {
    try {
      await db.execute(sql);
    } catch (e) {
      assert.ok(e instanceof StorageError);
      return [e.code, e.constraint];
    }
    return null;
  };
  assert.deepEqual(await kind("INSERT INTO p (id) VALUES ('a')"), ["conflict", "unique"]);
  assert.deepEqual(await kind("INSERT INTO c (p, n) VALUES ('zz', 1)"), [
    "conflict",
    "foreign-key",
  ]);
  assert.deepEqual(await kind("INSERT INTO c (p, n) VALUES ('a', 0)"), ["conflict", "check"]);
  assert.deepEqual(await kind("INSERT INTO c (p, n) VALUES ('a', NULL)"), ["conflict", "not-null"]);
  await assert.rejects(
    db.query("SELECT * FROM nope"),
    (e) => e instanceof StorageError && e.code === "internal",
  );
  await db.close();
  await assert.rejects(
    db.query("SELECT 1"),
    (e) => e instanceof StorageError && e.code === "closed",
  );
});

Deno.test("sqlite driver: handles on one file share a connection; a second process's lock is waited for asynchronously", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/x.db`;
    const a = openSqlite(path, { busyTimeoutMs: 10_000 });
    const b = openSqlite(path);
    await a.script("CREATE TABLE t (x INTEGER)");
    await Promise.all([
      a.transaction(async (tx) => {
        await tx.execute("INSERT INTO t (x) VALUES (1)");
        await new Promise((r) => setTimeout(r, 5));
      }),
      b.transaction((tx) => tx.execute("INSERT INTO t (x) VALUES (2)")),
    ]);
    await b.close();
    assert.equal((await a.query("SELECT x FROM t")).length, 2, "a still works after b closed");

    // Another process holds the write lock for a while; our write waits without blocking timers.
    const holder = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `import { DatabaseSync } from "node:sqlite";
         const db = new DatabaseSync(${JSON.stringify(path)});
         db.exec("BEGIN IMMEDIATE; INSERT INTO t (x) VALUES (3)");
         console.log("locked");
         await new Promise((r) => setTimeout(r, 300));
         db.exec("COMMIT");`,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = holder.stdout.getReader();
    const first = await reader.read();
    assert.match(new TextDecoder().decode(first.value), /locked/);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    await a.execute("INSERT INTO t (x) VALUES (4)");
    clearInterval(timer);
    reader.releaseLock();
    await holder.stdout.cancel();
    assert.equal((await holder.status).success, true);
    assert.ok(ticks > 0, "the event loop kept running while waiting for the lock");
    assert.equal((await a.query("SELECT x FROM t")).length, 4);
    await a.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
