import assert from "node:assert/strict";
import { ConfigError, ConfigReloader, loadConfig, parseConfigFile, renderConfig } from "./mod.ts";

Deno.test("config: [storage] db from the file (relative paths beside it), ALKNET_DB, unknown keys", async () => {
  assert.equal(
    parseConfigFile('[storage]\ndb = "alknet.db"\n', "/etc/alknet/a.toml").storage?.db,
    "/etc/alknet/alknet.db",
  );
  assert.equal(
    parseConfigFile('[storage]\ndb = "sqlite:x.db"\n', "/etc/a.toml").storage?.db,
    "sqlite:x.db",
  );
  assert.equal(
    parseConfigFile('[storage]\ndb = "postgres://u@h/d"\n', "/etc/a.toml").storage?.db,
    "postgres://u@h/d",
  );
  assert.throws(() => parseConfigFile('[storage]\ndatabase = "x"\n', "/etc/a.toml"), ConfigError);
  assert.throws(() => parseConfigFile('[storage]\ndb = ""\n', "/etc/a.toml"), ConfigError);
  const { config } = await loadConfig({ env: { ALKNET_DB: "postgres://a:secret@db/alknet" } });
  assert.equal(config.storage?.db, "postgres://a:secret@db/alknet");
  const text = renderConfig(config);
  assert.ok(!text.includes("secret"), text);
  assert.match(text, /\[storage\]\ndb = "postgres:\/\/a:<redacted>@db\/alknet"/);
});

Deno.test("config: a changed [storage] db needs a restart", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/alknet.toml`;
    await Deno.writeTextFile(path, '[storage]\ndb = "one.db"\n');
    const reloader = await ConfigReloader.create({ path, env: {} });
    await Deno.writeTextFile(path, '[storage]\ndb = "two.db"\n');
    const r = await reloader.reload();
    assert.ok(r.ok);
    assert.deepEqual(r.restartNeeded, ["storage.db"]);
    assert.equal(reloader.config.storage?.db, `${dir}/one.db`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
