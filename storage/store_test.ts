import assert from "node:assert/strict";
import { openSqlite } from "./driver/sqlite.ts";
import { StorageError } from "./errors.ts";
import { migrate } from "./migrations.ts";
import { type Migration, MIGRATIONS, SCHEMA_VERSION } from "./schema.ts";
import { openStore } from "./store.ts";
import { backendTest, freshLocation } from "./testing/backends.ts";

backendTest("store: migrates at open, reopens, reports its version", async ({ open, backend }) => {
  const store = await open();
  assert.equal(store.backend, backend);
  assert.equal(await store.schemaVersion(), SCHEMA_VERSION);
  await store.peers.add({ peerId: "kept" });
  await store.close();
  const again = await open();
  assert.equal(await again.schemaVersion(), SCHEMA_VERSION);
  assert.equal((await again.peers.get("kept"))?.peerId, "kept");
  const report = await again.check();
  assert.equal(report.ok, true, report.problems.join("\n"));
  assert.equal(report.schemaVersion, SCHEMA_VERSION);
  assert.equal(report.counts.peers, 1);
});

backendTest("store: a schema newer than the code is refused", async ({ open, location }) => {
  const store = await open();
  await store.sql.execute(
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
    [SCHEMA_VERSION + 1, "from the future", Date.now()],
  );
  await store.close();
  await assert.rejects(
    openStore(location),
    (e) =>
      e instanceof StorageError && e.code === "schema-too-new" &&
      e.message.includes(`version ${SCHEMA_VERSION + 1}`),
  );
});

backendTest("store: migrations run forward, each once, all or nothing", async ({ location }) => {
  const extra: Migration = {
    version: SCHEMA_VERSION + 1,
    name: "test: notes",
    sqlite: "CREATE TABLE test_notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)",
    postgres: "CREATE TABLE test_notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)",
  };
  const broken: Migration = {
    version: SCHEMA_VERSION + 2,
    name: "test: broken",
    sqlite: "CREATE TABLE test_more (x INTEGER); THIS IS NOT SQL",
    postgres: "CREATE TABLE test_more (x INTEGER); THIS IS NOT SQL",
  };
  const store = await openStore(location);
  await store.close();
  // Reach the driver the way openStore does, with a longer list of migrations.
  const { parseLocation } = await import("./location.ts");
  const { openPostgres } = await import("./driver/postgres.ts");
  const parsed = parseLocation(location);
  const db = parsed.backend === "sqlite"
    ? openSqlite(parsed.path)
    : openPostgres(parsed.url, { schema: parsed.schema });
  const schema = parsed.backend === "postgres" ? parsed.schema : undefined;
  try {
    assert.deepEqual(await migrate(db, { schema, migrations: [...MIGRATIONS, extra] }), {
      from: SCHEMA_VERSION,
      to: SCHEMA_VERSION + 1,
      applied: [SCHEMA_VERSION + 1],
    });
    await db.execute("INSERT INTO test_notes (id, body) VALUES (?, ?)", [1, "hello"]);
    await assert.rejects(
      migrate(db, { schema, migrations: [...MIGRATIONS, extra, broken] }),
      (e) => e instanceof StorageError && e.code === "migration-failed",
    );
    const rows = await db.query<{ v: number }>("SELECT max(version) AS v FROM schema_migrations");
    assert.equal(Number(rows[0].v), SCHEMA_VERSION + 1);
    const more = await db.query<{ n: number }>(
      parsed.backend === "sqlite"
        ? "SELECT count(*) AS n FROM sqlite_master WHERE name = 'test_more'"
        : "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'test_more'",
    );
    assert.equal(Number(more[0].n), 0, "the failed migration left nothing");
    assert.equal(
      (await db.query<{ body: string }>("SELECT body FROM test_notes"))[0].body,
      "hello",
    );
    await assert.rejects(
      migrate(db, { schema, migrations: [{ ...extra, version: 7 }] }),
      (e) => e instanceof StorageError && e.code === "migration-failed",
    );
  } finally {
    await db.close();
  }
});

backendTest("store: transactions roll back everything written through them", async ({ open }) => {
  const store = await open();
  await assert.rejects(
    store.transaction(async (tx) => {
      await tx.peers.add({ peerId: "ghost" });
      await tx.credentials.set("k", { key_version: 2, salt: "", iv: "", data: "" });
      await tx.metagraph.defineGraphType({ name: "t", nodeTypes: [{ name: "n" }] });
      assert.equal((await tx.peers.get("ghost"))?.peerId, "ghost", "visible inside");
      throw new Error("abort");
    }),
    /abort/,
  );
  assert.equal(await store.peers.get("ghost"), null);
  assert.equal(await store.credentials.get("k"), null);
  assert.equal(await store.metagraph.getGraphType("t"), null);
  assert.equal(await store.streams.head("audit"), 0);
  const n = await store.transaction(async (tx) => {
    await tx.peers.add({ peerId: "real" });
    return 42;
  });
  assert.equal(n, 42);
  assert.equal((await store.peers.get("real"))?.peerId, "real");
});

backendTest("store: closed stores refuse work", async ({ open }) => {
  const store = await open();
  await store.close();
  await store.close();
  await assert.rejects(
    store.peers.list(),
    (e) => e instanceof StorageError && e.code === "closed",
  );
  assert.throws(() => store.transaction(() => Promise.resolve()), StorageError);
});

Deno.test("store: a bad location is refused; an unreachable server is unavailable", async () => {
  await assert.rejects(
    openStore("mysql://x"),
    (e) => e instanceof StorageError && e.code === "bad-location",
  );
  await assert.rejects(
    openStore(""),
    (e) => e instanceof StorageError && e.code === "bad-location",
  );
  await assert.rejects(
    openStore("postgres://postgres@127.0.0.1:1/db"),
    (e) => e instanceof StorageError && e.code === "unavailable",
  );
  await assert.rejects(
    openStore("postgres://u@127.0.0.1:1/db?schema=Bad-Name"),
    (e) => e instanceof StorageError && e.code === "invalid-input",
  );
});

Deno.test("store: the SQLite file is private and WAL", async () => {
  const { location, cleanup } = await freshLocation("sqlite");
  try {
    const store = await openStore(location);
    const path = location.slice("sqlite:".length);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    const [row] = await store.sql.query<{ journal_mode: string }>("PRAGMA journal_mode");
    assert.equal(row.journal_mode, "wal");
    const [fk] = await store.sql.query<{ foreign_keys: number }>("PRAGMA foreign_keys");
    assert.equal(Number(fk.foreign_keys), 1);
    await store.close();
  } finally {
    await cleanup();
  }
});
