import assert from "node:assert/strict";
import { writeFileAtomic } from "./atomic_write.ts";
import { MnemonicSecret, readKeystoreFile, writeKeystoreFile } from "./keystore.ts";

const ATOMIC_URL = new URL("./atomic_write.ts", import.meta.url).href;
const KEYSTORE_URL = new URL("./keystore.ts", import.meta.url).href;
// The child scripts live in a temp dir: point them at the workspace config for the import map.
const CONFIG = new URL("../deno.json", import.meta.url).pathname;

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
}

Deno.test("writeFileAtomic: replaces content, sets the mode, leaves no temp file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/f`;
    await Deno.writeTextFile(path, "old", { mode: 0o644 });
    await writeFileAtomic(path, new TextEncoder().encode("new"));
    assert.equal(await Deno.readTextFile(path), "new");
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    await assert.rejects(
      () => writeFileAtomic(path, new Uint8Array(1), { createNew: true }),
      Deno.errors.AlreadyExists,
    );
    assert.equal(await Deno.readTextFile(path), "new");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["f"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic: a process killed mid-write leaves the old file intact", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/target`;
    const old = crypto.getRandomValues(new Uint8Array(4096));
    await Deno.writeFile(path, old);
    // The child streams 1 MiB chunks slowly, so it is surely killed mid-write.
    const script = `${dir}/child.ts`;
    await Deno.writeTextFile(
      script,
      `import { writeFileAtomic } from ${JSON.stringify(ATOMIC_URL)};
async function* slow() {
  for (let i = 0; i < 1000; i++) {
    yield new Uint8Array(1 << 20).fill(0x55);
    await new Promise((r) => setTimeout(r, 20));
  }
}
await writeFileAtomic(${JSON.stringify(path)}, slow());
`,
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", CONFIG, script],
      stdout: "null",
      stderr: "null",
    }).spawn();
    // Wait until the temporary file has some data in it, then kill -9.
    await waitFor(() => {
      for (const e of Deno.readDirSync(dir)) {
        if (e.name.endsWith(".tmp") && Deno.statSync(`${dir}/${e.name}`).size >= 2 << 20) {
          return true;
        }
      }
      return false;
    }, 20_000);
    child.kill("SIGKILL");
    const status = await child.status;
    assert.equal(status.success, false);
    assert.deepEqual(await Deno.readFile(path), old);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("keystore: killed while rewriting in a loop, the file is always a whole keystore", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/ks.json`;
    const phrase =
      "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    await writeKeystoreFile(path, new MnemonicSecret(phrase), "pw", {
      params: { logN: 4, r: 8, p: 1 },
    });
    const script = `${dir}/child.ts`;
    await Deno.writeTextFile(
      script,
      `import { MnemonicSecret, writeKeystoreFile } from ${JSON.stringify(KEYSTORE_URL)};
console.log("ready");
for (let i = 0; ; i++) {
  await writeKeystoreFile(${JSON.stringify(path)}, new MnemonicSecret(${
        JSON.stringify(phrase)
      }, "n" + i), "pw", {
    params: { logN: 4, r: 8, p: 1 },
    overwrite: true,
  });
}
`,
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", CONFIG, script],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = child.stdout.getReader();
    await reader.read(); // "ready"
    const firstIno = Deno.statSync(path).ino;
    await waitFor(() => Deno.statSync(path).ino !== firstIno, 20_000); // at least one rewrite
    await new Promise((r) => setTimeout(r, 50 + Math.random() * 200));
    child.kill("SIGKILL");
    await child.status;
    reader.releaseLock();
    await child.stdout.cancel();
    const secret = await readKeystoreFile(path, "pw");
    assert.equal(secret.mnemonic, phrase);
    assert.match(secret.mnemonicPassphrase, /^n\d+$/);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
