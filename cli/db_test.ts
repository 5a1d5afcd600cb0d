import assert from "node:assert/strict";
import { main } from "./db.ts";

Deno.test("alknet db check: a fresh database is at the code's schema version with no problem", async () => {
  const dir = await Deno.makeTempDir({ prefix: "alknet-db-" });
  try {
    assert.equal(await main(["check", "--db", `${dir}/alknet.db`]), 0);
    assert.equal(await main(["check", "--db", `${dir}/alknet.db`, "extra"]), 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
