import assert from "node:assert/strict";
import { inspect } from "node:util";
import { bip32Derive } from "./bip32.ts";
import { fromBase64Strict, toBase64, toHex } from "./bytes.ts";
import {
  AlreadyUnlocked,
  DecryptionFailed,
  InvalidMnemonic,
  InvalidPath,
  UnsupportedKeyVersion,
  VaultError,
  VaultLocked,
} from "./errors.ts";
import { mnemonicToSeed } from "./mnemonic.ts";
import { parsePath } from "./path.ts";
import { encryptionKeyPath, ETHEREUM_PATH, IDENTITY_PATH, SSH_HOST_PATH } from "./paths.ts";
import { slip10Derive } from "./slip10.ts";
import { Vault } from "./vault.ts";

const ABOUT =
  "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const decoder = new TextDecoder();

Deno.test("Vault: locked by default; every operation needs unlock", async () => {
  const v = new Vault();
  assert.equal(v.unlocked, false);
  assert.throws(() => v.deriveEd25519(IDENTITY_PATH), VaultLocked);
  assert.throws(() => v.deriveSecp256k1(ETHEREUM_PATH), VaultLocked);
  assert.throws(() => v.encryptionKey(2), VaultLocked);
  await assert.rejects(() => v.encrypt("x"), VaultLocked);
  await assert.rejects(
    () =>
      v.decrypt({
        key_version: 2,
        salt: toBase64(new Uint8Array(32)),
        iv: toBase64(new Uint8Array(12)),
        data: toBase64(new Uint8Array(16)),
      }),
    VaultLocked,
  );
  await assert.rejects(() => v.rotate("{}", 3), VaultLocked);
  v.lock(); // idempotent on a locked vault
  v.lock();
  assert.equal(v.unlocked, false);
});

Deno.test("Vault: unlock, AlreadyUnlocked, lock, unlock again", async () => {
  const v = new Vault();
  await v.unlock(ABOUT, "TREZOR");
  assert.equal(v.unlocked, true);
  await assert.rejects(() => v.unlock(ABOUT), AlreadyUnlocked);
  await assert.rejects(() => v.unlockNew(12), AlreadyUnlocked);
  assert.throws(() => v.unlockWithSeed(new Uint8Array(64)), AlreadyUnlocked);
  const a = v.deriveEd25519(IDENTITY_PATH);
  v.lock();
  assert.equal(v.unlocked, false);
  assert.throws(() => v.deriveEd25519(IDENTITY_PATH), VaultLocked);
  await v.unlock(ABOUT, "TREZOR");
  const b = v.deriveEd25519(IDENTITY_PATH);
  assert.deepEqual(a.privateKey, b.privateKey);
  v.lock();
  await assert.rejects(() => v.unlock("abandon abandon"), InvalidMnemonic);
  assert.equal(v.unlocked, false);
});

Deno.test("Vault: concurrent unlock refused; lock during unlock wins", async () => {
  const v = new Vault();
  const first = v.unlock(ABOUT);
  await assert.rejects(() => v.unlock(ABOUT), AlreadyUnlocked);
  await first;
  v.lock();
  const pending = v.unlock(ABOUT);
  v.lock();
  await assert.rejects(() => pending, VaultLocked);
  assert.equal(v.unlocked, false);
});

Deno.test("Vault.unlockNew: returns a fresh phrase that unlocks to the same keys", async () => {
  const v = new Vault();
  const phrase = await v.unlockNew(15);
  assert.equal(phrase.split(" ").length, 15);
  const k1 = v.deriveEd25519(SSH_HOST_PATH);
  const w = new Vault();
  await w.unlock(phrase);
  assert.deepEqual(w.deriveEd25519(SSH_HOST_PATH).privateKey, k1.privateKey);
});

Deno.test("Vault: derivations equal SLIP-0010 / BIP-32 on the BIP39 seed", async () => {
  const v = new Vault();
  await v.unlock(ABOUT);
  const seed = await mnemonicToSeed(ABOUT);
  for (const p of [IDENTITY_PATH, SSH_HOST_PATH, encryptionKeyPath(2), "m/0h/1h"]) {
    const k = v.deriveEd25519(p);
    const n = slip10Derive(seed, parsePath(p, { hardenedOnly: true }));
    assert.deepEqual(k.privateKey, n.key);
    assert.deepEqual(k.chainCode, n.chainCode);
    assert.equal(k.curve, "ed25519");
    assert.equal(k.publicKey.length, 32);
  }
  const e = v.deriveSecp256k1(ETHEREUM_PATH);
  const n = bip32Derive(seed, parsePath(ETHEREUM_PATH));
  assert.deepEqual(e.privateKey, n.privateKey);
  assert.deepEqual(e.publicKey, n.publicKey);
  assert.equal(v.deriveEd25519("m/74h/0h/0h/0h").path, IDENTITY_PATH);
  assert.deepEqual(v.encryptionKey(2).privateKey, v.deriveEd25519("m/74'/2'/0'/0'").privateKey);
  assert.throws(() => v.deriveEd25519("m/74'/0"), InvalidPath);
  assert.throws(() => v.deriveEd25519("m/2147483648'"), InvalidPath);
  assert.throws(() => v.deriveSecp256k1("44'/60'"), InvalidPath);
  assert.throws(() => v.encryptionKey(1), UnsupportedKeyVersion);
});

Deno.test("Vault: returned keys are copies; wiping one leaves the cache intact", async () => {
  const v = new Vault();
  await v.unlock(ABOUT);
  const a = v.deriveEd25519(IDENTITY_PATH);
  const hex = toHex(a.privateKey);
  a.wipe();
  assert.equal(a.wiped, true);
  assert.throws(() => a.privateKey, VaultError);
  assert.equal(toHex(v.deriveEd25519(IDENTITY_PATH).privateKey), hex);
});

Deno.test("Vault cache: keyed by curve and path, TTL 1 h from insertion, LRU 64, cleared on lock", async () => {
  let now = 0;
  const v = new Vault({ clock: () => now });
  await v.unlock(ABOUT);
  v.deriveEd25519(IDENTITY_PATH);
  assert.deepEqual(v.cacheStats, { size: 1, hits: 0, misses: 1 });
  v.deriveEd25519("m/74h/0h/0h/0h"); // same canonical path
  assert.deepEqual(v.cacheStats, { size: 1, hits: 1, misses: 1 });
  v.deriveSecp256k1(IDENTITY_PATH); // same path, other key type: its own entry
  assert.deepEqual(v.cacheStats, { size: 2, hits: 1, misses: 2 });
  now = 60 * 60 * 1000 - 1;
  v.deriveEd25519(IDENTITY_PATH);
  assert.equal(v.cacheStats.hits, 2);
  now = 60 * 60 * 1000; // one hour after insertion, even though it was just used
  v.deriveEd25519(IDENTITY_PATH);
  assert.deepEqual(v.cacheStats, { size: 2, hits: 2, misses: 3 });
  for (let i = 0; i < 100; i++) v.deriveEd25519(`m/${i}'`);
  assert.equal(v.cacheStats.size, 64);
  const misses = v.cacheStats.misses;
  v.deriveEd25519("m/99'"); // recent: hit
  v.deriveEd25519("m/0'"); // evicted long ago: miss
  assert.equal(v.cacheStats.misses, misses + 1);
  v.lock();
  assert.equal(v.cacheStats.size, 0);
});

Deno.test("Vault: encrypt/decrypt, versions and rotation", async () => {
  const v = new Vault();
  await v.unlock(ABOUT);
  const blob = await v.encrypt("database password");
  assert.equal(blob.key_version, 2);
  assert.equal(decoder.decode(await v.decrypt(blob)), "database password");
  assert.equal(decoder.decode(await v.decrypt(JSON.stringify(blob))), "database password");
  const bytes = crypto.getRandomValues(new Uint8Array(1000));
  const v5 = await v.encrypt(bytes, 5);
  assert.equal(v5.key_version, 5);
  assert.deepEqual(await v.decrypt(v5), bytes);
  // Different versions use different keys.
  await assert.rejects(() => v.decrypt({ ...blob, key_version: 3 }), DecryptionFailed);
  const rotated = await v.rotate(blob, 3);
  assert.equal(rotated.key_version, 3);
  assert.notEqual(rotated.data, blob.data);
  assert.equal(decoder.decode(await v.decrypt(rotated)), "database password");
  assert.equal(decoder.decode(await v.decrypt(blob)), "database password"); // old still opens
  const back = await v.rotate(rotated);
  assert.equal(back.key_version, 2);
  assert.equal(decoder.decode(await v.decrypt(back)), "database password");
  for (const bad of [1, 0, -1, 2.5]) {
    await assert.rejects(() => v.encrypt("x", bad), UnsupportedKeyVersion);
    await assert.rejects(() => v.rotate(blob, bad), UnsupportedKeyVersion);
    await assert.rejects(() => v.decrypt({ ...blob, key_version: bad }), UnsupportedKeyVersion);
  }
  // Another mnemonic cannot open it.
  const w = new Vault();
  await w.unlockNew();
  await assert.rejects(() => w.decrypt(blob), DecryptionFailed);
  // Tampering with the blob: generic error.
  const data = fromBase64Strict(blob.data)!;
  data[0] ^= 0x80;
  await assert.rejects(() => v.decrypt({ ...blob, data: toBase64(data) }), DecryptionFailed);
});

Deno.test("redaction: keys and the vault render as [REDACTED]; no key bytes anywhere", async () => {
  const v = new Vault();
  await v.unlock(ABOUT);
  const seedHex = toHex(await mnemonicToSeed(ABOUT));
  const k = v.deriveEd25519(IDENTITY_PATH);
  const s = v.deriveSecp256k1(ETHEREUM_PATH);
  const enc = v.encryptionKey(2);
  const secrets = [k, s, enc].flatMap((x) => [
    toHex(x.privateKey),
    toBase64(x.privateKey),
    toHex(x.chainCode),
  ]);
  secrets.push(seedHex, seedHex.slice(0, 32));
  for (const obj of [k, s, enc, v]) {
    const renderings = [
      JSON.stringify(obj),
      JSON.stringify({ nested: obj }),
      String(obj),
      `${obj}`,
      "" + obj,
      Deno.inspect(obj),
      Deno.inspect({ nested: [obj] }, { depth: 10, showHidden: true }),
      inspect(obj),
      inspect({ nested: obj }, { depth: 10, showHidden: true }),
    ];
    assert.equal(JSON.stringify(obj), '"[REDACTED]"');
    assert.equal(String(obj), "[REDACTED]");
    assert.equal(Deno.inspect(obj), "[REDACTED]");
    assert.equal(inspect(obj), "[REDACTED]");
    for (const r of renderings) {
      for (const secret of secrets) assert.ok(!r.includes(secret), r);
      assert.ok(r.includes("[REDACTED]"), r);
    }
    assert.deepEqual(Object.keys(obj).filter((key) => /priv|seed|chain/i.test(key)), []);
  }
  // Every error the vault can raise: messages and stacks carry no secrets.
  const errors: unknown[] = [];
  const collect = async (f: () => unknown) => {
    try {
      await f();
    } catch (e) {
      errors.push(e);
    }
  };
  const blob = await v.encrypt("x");
  await collect(() => v.unlock(ABOUT));
  await collect(() => v.deriveEd25519("m/0"));
  await collect(() => v.deriveSecp256k1("m/x"));
  await collect(() => v.encryptionKey(1));
  await collect(() => v.decrypt({ ...blob, key_version: 3 }));
  await collect(() => v.decrypt("{"));
  await collect(() => v.decrypt({ ...blob, iv: "AAAA" }));
  const w = new Vault();
  await collect(() => w.unlock(ABOUT.replace("about", "abandon")));
  await collect(() => w.deriveEd25519(IDENTITY_PATH));
  const wiped = k.clone();
  wiped.wipe();
  await collect(() => wiped.privateKey);
  assert.equal(errors.length, 10);
  for (const e of errors) {
    assert.ok(e instanceof VaultError);
    const text = `${e.message}\n${e.stack}\n${Deno.inspect(e)}\n${JSON.stringify(e)}`;
    for (const secret of secrets) assert.ok(!text.includes(secret), text);
  }
});

Deno.test("lock wipes: keys handed out earlier stay usable copies, cache is emptied", async () => {
  const v = new Vault();
  await v.unlock(ABOUT);
  const k = v.deriveEd25519(IDENTITY_PATH);
  const before = toHex(k.privateKey);
  v.lock();
  assert.equal(toHex(k.privateKey), before); // the caller's copy is the caller's to wipe
  k.wipe();
  assert.ok(k.wiped);
  assert.equal(v.cacheStats.size, 0);
});

Deno.test("lock zero-fills the seed and every cached key (observed through fill)", async () => {
  const v = new Vault();
  await v.unlock(ABOUT);
  const seedHex = toHex(await mnemonicToSeed(ABOUT));
  const k = v.deriveEd25519(SSH_HOST_PATH);
  const s = v.deriveSecp256k1(ETHEREUM_PATH);
  const expected = [seedHex, toHex(k.privateKey), toHex(k.chainCode), toHex(s.privateKey)];
  const filled: string[] = [];
  const original = Uint8Array.prototype.fill;
  Uint8Array.prototype.fill = function (this: Uint8Array, ...args: Parameters<Uint8Array["fill"]>) {
    if (args[0] === 0) filled.push(toHex(this));
    return original.apply(this, args);
  } as typeof original;
  try {
    v.lock();
  } finally {
    Uint8Array.prototype.fill = original;
  }
  for (const hex of expected) assert.ok(filled.includes(hex), "not wiped on lock");
});

Deno.test("Vault with cache capacity 0 still derives (nothing kept)", async () => {
  const v = new Vault({ cacheCapacity: 0 });
  await v.unlock(ABOUT);
  const a = v.deriveEd25519(IDENTITY_PATH);
  const b = v.deriveSecp256k1(ETHEREUM_PATH);
  assert.equal(a.privateKey.length, 32);
  assert.equal(b.publicKey.length, 33);
  assert.equal(v.cacheStats.size, 0);
  assert.equal(decoder.decode(await v.decrypt(await v.encrypt("ok"))), "ok");
});
