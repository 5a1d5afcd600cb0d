import assert from "node:assert/strict";
import { StorageError } from "./errors.ts";
import { defaultStoreLocation, parseLocation, redactLocation } from "./location.ts";

Deno.test("locations: paths, sqlite:, :memory: and postgres URLs", () => {
  assert.deepEqual(parseLocation("/var/lib/a.db"), { backend: "sqlite", path: "/var/lib/a.db" });
  assert.deepEqual(parseLocation("rel/a.db"), { backend: "sqlite", path: "rel/a.db" });
  assert.deepEqual(parseLocation("sqlite:/x/a.db"), { backend: "sqlite", path: "/x/a.db" });
  assert.deepEqual(parseLocation(":memory:"), { backend: "sqlite", path: ":memory:" });
  assert.deepEqual(parseLocation("postgresql://u:p@h:5/db"), {
    backend: "postgres",
    url: "postgresql://u:p@h:5/db",
  });
  assert.deepEqual(parseLocation("postgres://u@h/db?schema=fleet&sslmode=require"), {
    backend: "postgres",
    url: "postgres://u@h/db?sslmode=require",
    schema: "fleet",
  });
  for (const bad of ["", "   ", "sqlite:", "mysql://h/db"]) {
    assert.throws(
      () => parseLocation(bad),
      (e) => e instanceof StorageError && e.code === "bad-location",
      bad,
    );
  }
});

Deno.test("locations: passwords never show", () => {
  assert.equal(redactLocation("postgres://alk:hunter2@db:5432/x"), "postgres://alk:***@db:5432/x");
  assert.equal(redactLocation("postgres://alk@db/x"), "postgres://alk@db/x");
  assert.equal(redactLocation("/path/a.db"), "/path/a.db");
  try {
    parseLocation("postgres://u:hunter2@[bad/x");
  } catch (e) {
    assert.ok(!(e as Error).message.includes("hunter2"));
  }
});

Deno.test("locations: the default lives in the XDG data dir", () => {
  assert.equal(defaultStoreLocation({ XDG_DATA_HOME: "/d/" }), "/d/alknet/alknet.db");
  assert.equal(
    defaultStoreLocation({ HOME: "/home/me" }),
    "/home/me/.local/share/alknet/alknet.db",
  );
  assert.throws(() => defaultStoreLocation({}), StorageError);
});
