import assert from "node:assert/strict";
import { generateMnemonic, MnemonicSecret, Vault, writeKeystoreFile } from "@alknet/vault";
import { openStore } from "@alknet/storage";
import { main } from "./credentials.ts";

Deno.test("alknet credentials: set seals with the vault, rotate re-encrypts all, list and remove", async () => {
  const dir = await Deno.makeTempDir({ prefix: "alknet-credentials-" });
  const keystore = `${dir}/ks`;
  const db = `${dir}/alknet.db`;
  const secret = new MnemonicSecret(generateMnemonic(12), "");
  await writeKeystoreFile(keystore, secret, "pw", { params: { logN: 4, r: 8, p: 1 } });
  await Deno.writeTextFile(`${dir}/secret`, "hunter2");
  Deno.env.set("ALKNET_VAULT_PASSPHRASE", "pw");
  const quiet = console.log;
  console.log = () => {};
  try {
    const common = ["--keystore", keystore, "--db", db];
    assert.equal(await main(["set", "a", "--file", `${dir}/secret`, ...common]), 0);
    assert.equal(await main(["set", "b", "--file", `${dir}/secret`, ...common]), 0);
    assert.equal(await main(["rotate", "--to", "3", ...common]), 0);
    assert.equal(await main(["remove", "b", "--db", db]), 0);
    assert.equal(await main(["list", "--db", db]), 0);
    assert.equal(await main(["set", "c", "--node", "ws://127.0.0.1:1", "--keystore", keystore]), 2);
    Deno.env.set("ALKNET_VAULT_PASSPHRASE", "wrong");
    assert.equal(await main(["rotate", "--to", "4", ...common]), 1);
  } finally {
    console.log = quiet;
    Deno.env.delete("ALKNET_VAULT_PASSPHRASE");
  }
  const store = await openStore(db);
  try {
    assert.deepEqual((await store.credentials.list()).map((c) => [c.name, c.keyVersion]), [[
      "a",
      3,
    ]]);
    const blob = (await store.credentials.get("a"))!;
    assert.ok(!JSON.stringify(blob).includes("hunter2"));
    const vault = new Vault();
    await vault.unlock(secret.mnemonic, secret.mnemonicPassphrase);
    assert.equal(new TextDecoder().decode(await vault.decrypt(blob)), "hunter2");
    vault.lock();
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
