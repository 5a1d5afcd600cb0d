import assert from "node:assert/strict";
import { fromBase64Strict, toBase64 } from "./bytes.ts";
import {
  InvalidMnemonic,
  KeystoreCorrupt,
  KeystoreExists,
  KeystoreNotFound,
  VaultError,
  WrongPassphrase,
} from "./errors.ts";
import {
  createKeystore,
  DEFAULT_SCRYPT_PARAMS,
  MnemonicSecret,
  openKeystore,
  readKeystoreFile,
  type ScryptParams,
  unlockFromKeystore,
  writeKeystoreFile,
} from "./keystore.ts";
import { IDENTITY_PATH } from "./paths.ts";
import { Vault } from "./vault.ts";

const ABOUT =
  "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const FAST: ScryptParams = { logN: 8, r: 8, p: 1 };

Deno.test("keystore: round trip with BIP39 passphrase; mnemonic never in clear; mode 0600", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/ks.json`;
    await writeKeystoreFile(path, new MnemonicSecret(ABOUT, "TREZOR"), "pw one", { params: FAST });
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    const text = await Deno.readTextFile(path);
    assert.ok(!text.includes("abandon") && !text.includes("about") && !text.includes("TREZOR"));
    const file = JSON.parse(text);
    assert.equal(file.alknet_keystore, 1);
    assert.deepEqual(
      { name: file.kdf.name, log_n: file.kdf.log_n, r: file.kdf.r, p: file.kdf.p },
      { name: "scrypt", log_n: 8, r: 8, p: 1 },
    );
    assert.equal(fromBase64Strict(file.kdf.salt)!.length, 32);
    assert.equal(file.cipher.name, "aes-256-gcm");
    assert.equal(fromBase64Strict(file.cipher.iv)!.length, 12);
    const secret = await readKeystoreFile(path, "pw one");
    assert.equal(secret.mnemonic, ABOUT);
    assert.equal(secret.mnemonicPassphrase, "TREZOR");
    assert.equal(String(secret), "[REDACTED]");
    assert.equal(JSON.stringify(secret), '"[REDACTED]"');
    assert.equal(Deno.inspect(secret), "[REDACTED]");
    const v = new Vault();
    await unlockFromKeystore(v, path, "pw one");
    const w = new Vault();
    await w.unlock(ABOUT, "TREZOR");
    assert.deepEqual(
      v.deriveEd25519(IDENTITY_PATH).privateKey,
      w.deriveEd25519(IDENTITY_PATH).privateKey,
    );
    // No stray temporary files.
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["ks.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("keystore: wrong passphrase is a clear error and leaves the file untouched", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/ks.json`;
    await writeKeystoreFile(path, new MnemonicSecret(ABOUT), "right", { params: FAST });
    const before = await Deno.readFile(path);
    const mtime = (await Deno.stat(path)).mtime;
    await assert.rejects(() => readKeystoreFile(path, "wrong"), (e: unknown) => {
      assert.ok(e instanceof WrongPassphrase);
      assert.equal(e.message, `keystore ${path}: wrong passphrase`);
      return true;
    });
    assert.deepEqual(await Deno.readFile(path), before);
    assert.deepEqual((await Deno.stat(path)).mtime, mtime);
    const v = new Vault();
    await assert.rejects(() => unlockFromKeystore(v, path, "wrong"), WrongPassphrase);
    assert.equal(v.unlocked, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("keystore: refuses to overwrite unless asked; missing file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/ks.json`;
    await writeKeystoreFile(path, new MnemonicSecret(ABOUT), "a", { params: FAST });
    const other = "legal winner thank year wave sausage worth useful legal winner thank yellow";
    await assert.rejects(
      () => writeKeystoreFile(path, new MnemonicSecret(other), "b", { params: FAST }),
      KeystoreExists,
    );
    assert.equal((await readKeystoreFile(path, "a")).mnemonic, ABOUT);
    await writeKeystoreFile(path, new MnemonicSecret(other), "b", {
      params: FAST,
      overwrite: true,
    });
    assert.equal((await readKeystoreFile(path, "b")).mnemonic, other);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    await assert.rejects(() => readKeystoreFile(`${dir}/nope.json`, "a"), KeystoreNotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("keystore: refuses an invalid mnemonic, an empty passphrase, absurd parameters", async () => {
  await assert.rejects(
    () => createKeystore(new MnemonicSecret("abandon"), "pw", FAST),
    InvalidMnemonic,
  );
  await assert.rejects(() => createKeystore(new MnemonicSecret(ABOUT), "", FAST), VaultError);
  await assert.rejects(
    () => createKeystore(new MnemonicSecret(ABOUT), "pw", { logN: 0, r: 8, p: 1 }),
    RangeError,
  );
  await assert.rejects(
    () => createKeystore(new MnemonicSecret(ABOUT), "pw", { logN: 30, r: 8, p: 1 }),
    RangeError,
  );
  assert.deepEqual({ ...DEFAULT_SCRYPT_PARAMS }, { logN: 17, r: 8, p: 1 });
});

Deno.test("keystore: corrupted files give KeystoreCorrupt (or WrongPassphrase when the KDF input changed)", async () => {
  const text = await createKeystore(new MnemonicSecret(ABOUT), "pw", FAST);
  const file = JSON.parse(text);
  const flip = (b64: string, i = 0) => {
    const b = fromBase64Strict(b64)!;
    b[i] ^= 1;
    return toBase64(b);
  };
  const corrupt: string[] = [
    "",
    "not json",
    text.slice(0, text.length / 2),
    "[]",
    JSON.stringify({ ...file, alknet_keystore: 2 }),
    JSON.stringify({ ...file, alknet_keystore: undefined }),
    JSON.stringify({ ...file, kdf: { ...file.kdf, name: "pbkdf2" } }),
    JSON.stringify({ ...file, kdf: { ...file.kdf, log_n: 40 } }),
    JSON.stringify({ ...file, kdf: { ...file.kdf, r: "8" } }),
    JSON.stringify({ ...file, cipher: { ...file.cipher, name: "aes-128-gcm" } }),
    JSON.stringify({ ...file, cipher: { ...file.cipher, iv: "!!" } }),
    JSON.stringify({ ...file, cipher: { ...file.cipher, iv: toBase64(new Uint8Array(16)) } }),
    JSON.stringify({ ...file, data: undefined }),
    JSON.stringify({ ...file, data: toBase64(new Uint8Array(4)) }),
    JSON.stringify({ ...file, check: undefined }),
    // Right passphrase, but the sealed data, its tag or the header (iv) was modified.
    JSON.stringify({ ...file, data: flip(file.data) }),
    JSON.stringify({ ...file, data: flip(file.data, fromBase64Strict(file.data)!.length - 1) }),
    JSON.stringify({ ...file, cipher: { ...file.cipher, iv: flip(file.cipher.iv) } }),
  ];
  for (const t of corrupt) {
    await assert.rejects(() => openKeystore(t, "pw", "ks.json"), (e: unknown) => {
      assert.ok(e instanceof KeystoreCorrupt, t.slice(0, 100));
      assert.match(e.message, /^keystore ks\.json: not a valid keystore: /);
      return true;
    });
  }
  // Changing the KDF salt or cost changes the derived key: reported as a wrong passphrase.
  for (
    const t of [
      JSON.stringify({ ...file, kdf: { ...file.kdf, salt: flip(file.kdf.salt) } }),
      JSON.stringify({ ...file, kdf: { ...file.kdf, log_n: 7 } }),
      JSON.stringify({ ...file, check: flip(file.check) }),
    ]
  ) {
    await assert.rejects(() => openKeystore(t, "pw", "ks.json"), WrongPassphrase);
  }
  assert.equal((await openKeystore(text, "pw")).mnemonic, ABOUT);
});
