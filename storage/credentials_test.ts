import assert from "node:assert/strict";
import type { EncryptedData } from "./credentials.ts";
import { StorageError } from "./errors.ts";
import { backendTest } from "./testing/backends.ts";

function blob(version: number, data: string): EncryptedData {
  return {
    key_version: version,
    salt: btoa("s".repeat(32)),
    iv: btoa("i".repeat(12)),
    data: btoa(data),
  };
}

backendTest("credentials: set, get, info, list, remove", async ({ open }) => {
  const store = await open();
  await store.credentials.set("db", blob(2, "sealed-1"));
  await store.credentials.set("api", blob(2, "sealed-2"));
  assert.deepEqual(await store.credentials.get("db"), blob(2, "sealed-1"));
  assert.equal(await store.credentials.get("nope"), null);
  await store.credentials.set("db", blob(3, "sealed-3"));
  const info = await store.credentials.info("db");
  assert.equal(info?.keyVersion, 3);
  assert.ok(info!.updatedAt >= info!.createdAt);
  assert.deepEqual((await store.credentials.list()).map((c) => [c.name, c.keyVersion]), [
    ["api", 2],
    ["db", 3],
  ]);
  assert.ok(!JSON.stringify(await store.credentials.list()).includes(btoa("sealed-3")));
  assert.equal(await store.credentials.remove("api"), true);
  assert.equal(await store.credentials.remove("api"), false);
  await assert.rejects(
    store.credentials.set("bad", { key_version: 2, salt: "x", iv: "!", data: "" } as EncryptedData),
    (e) => e instanceof StorageError && e.code === "invalid-input",
  );
});

backendTest("credentials: rotate rewrites every blob, all or nothing", async ({ open }) => {
  const store = await open();
  for (const n of ["a", "b", "c"]) await store.credentials.set(n, blob(2, `secret-${n}`));
  const calls: string[] = [];
  await assert.rejects(
    store.credentials.rotate((name, old) => {
      calls.push(name);
      if (name === "b") throw new Error("vault locked");
      return { ...old, key_version: 3, data: btoa(`re-${name}`) };
    }),
    (e) => e instanceof StorageError && e.code === "rotate-failed" && /'b'/.test(e.message),
  );
  assert.deepEqual(calls, ["a", "b"]);
  for (const n of ["a", "b", "c"]) {
    assert.deepEqual(await store.credentials.get(n), blob(2, `secret-${n}`));
  }

  await assert.rejects(
    store.credentials.rotate(() => ({ key_version: 3 }) as EncryptedData),
    (e) => e instanceof StorageError && e.code === "rotate-failed",
  );
  assert.equal(
    await store.credentials.rotate(async (_name, old) => {
      await new Promise((r) => setTimeout(r, 1));
      return { ...old, key_version: 3 };
    }),
    3,
  );
  assert.deepEqual((await store.credentials.list()).map((c) => c.keyVersion), [3, 3, 3]);
});
