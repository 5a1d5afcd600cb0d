import assert from "node:assert/strict";
import {
  aesGcmDecrypt,
  aesGcmEncrypt,
  importAesKey,
  openEncryptedData,
  sealEncryptedData,
} from "./aead.ts";
import { fromBase64Strict, fromHex, toBase64, toHex } from "./bytes.ts";
import { decodeEncryptedData, type EncryptedData, parseEncryptedData } from "./encrypted_data.ts";
import { DecryptionFailed, InvalidEncryptedData, UnsupportedKeyVersion } from "./errors.ts";

const ZERO_KEY = new Uint8Array(32);
const ZERO_IV = new Uint8Array(12);
const TC15_KEY = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
const TC15_IV = "cafebabefacedbaddecaf888";
const TC15_PT =
  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
const TC15_OUT =
  "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015adb094dac5d93471bdec1a502270e3cc6c";

Deno.test("known answer (docs/reference/vectors.md): AES-256-GCM TC13, TC14, TC15", async () => {
  const zero = await importAesKey(ZERO_KEY);
  assert.equal(
    toHex(await aesGcmEncrypt(zero, ZERO_IV, new Uint8Array(0))),
    "530f8afbc74536b9a963b4f1c4cb738b",
  );
  assert.equal(
    toHex(await aesGcmEncrypt(zero, ZERO_IV, new Uint8Array(16))),
    "cea7403d4d606b6e074ec5d3baf39d18" + "d0d1c8a799996bf0265b98b5d48ab919",
  );
  const k15 = await importAesKey(fromHex(TC15_KEY));
  assert.equal(toHex(await aesGcmEncrypt(k15, fromHex(TC15_IV), fromHex(TC15_PT))), TC15_OUT);
  assert.equal(toHex(await aesGcmDecrypt(k15, fromHex(TC15_IV), fromHex(TC15_OUT))), TC15_PT);
});

Deno.test("EncryptedData: TC15 as a blob opens to the plaintext", async () => {
  const blob: EncryptedData = {
    key_version: 2,
    salt: toBase64(new Uint8Array(32).fill(9)),
    iv: toBase64(fromHex(TC15_IV)),
    data: toBase64(fromHex(TC15_OUT)),
  };
  const k15 = await importAesKey(fromHex(TC15_KEY));
  assert.equal(toHex(await openEncryptedData(k15, blob)), TC15_PT);
  assert.equal(toHex(await openEncryptedData(k15, JSON.stringify(blob))), TC15_PT);
});

Deno.test("EncryptedData: round trip, shape and sizes", async () => {
  const key = await importAesKey(crypto.getRandomValues(new Uint8Array(32)));
  for (const size of [0, 1, 100, 65536]) {
    const pt = crypto.getRandomValues(new Uint8Array(size));
    const blob = await sealEncryptedData(key, 2, pt);
    assert.deepEqual(Object.keys(blob), ["key_version", "salt", "iv", "data"]);
    assert.equal(blob.key_version, 2);
    assert.equal(fromBase64Strict(blob.salt)!.length, 32);
    assert.equal(fromBase64Strict(blob.iv)!.length, 12);
    assert.equal(fromBase64Strict(blob.data)!.length, size + 16);
    assert.deepEqual(await openEncryptedData(key, JSON.parse(JSON.stringify(blob))), pt);
  }
  const a = await sealEncryptedData(key, 2, new Uint8Array(8));
  const b = await sealEncryptedData(key, 2, new Uint8Array(8));
  assert.notEqual(a.iv, b.iv);
  assert.notEqual(a.salt, b.salt);
});

Deno.test("EncryptedData: flipping any bit of data, tag or iv fails with one generic error", async () => {
  const key = await importAesKey(crypto.getRandomValues(new Uint8Array(32)));
  const blob = await sealEncryptedData(key, 2, new TextEncoder().encode("hello"));
  for (const field of ["data", "iv"] as const) {
    const bytes = fromBase64Strict(blob[field])!;
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const t = bytes.slice();
      t[bit >> 3] ^= 1 << (bit & 7);
      await assert.rejects(
        () => openEncryptedData(key, { ...blob, [field]: toBase64(t) }),
        (e: unknown) => {
          assert.ok(e instanceof DecryptionFailed);
          assert.equal(e.message, "decryption failed: wrong key, or the data was modified");
          return true;
        },
        `${field} bit ${bit}`,
      );
    }
  }
  // Truncating the tag or using another key: the same error.
  const data = fromBase64Strict(blob.data)!;
  await assert.rejects(
    () => openEncryptedData(key, { ...blob, data: toBase64(data.subarray(0, data.length - 1)) }),
    DecryptionFailed,
  );
  const other = await importAesKey(crypto.getRandomValues(new Uint8Array(32)));
  await assert.rejects(() => openEncryptedData(other, blob), DecryptionFailed);
});

Deno.test("EncryptedData: strict decoding with typed errors", () => {
  const good = {
    key_version: 2,
    salt: toBase64(new Uint8Array(32)),
    iv: toBase64(new Uint8Array(12)),
    data: toBase64(new Uint8Array(16)),
  };
  assert.deepEqual(parseEncryptedData(JSON.stringify(good)), good);
  const invalid: [unknown, string][] = [
    ["{", "json"],
    ["[]", "shape"],
    [null, "shape"],
    [{ ...good, extra: 1 }, "shape"],
    [{ salt: good.salt, iv: good.iv, data: good.data }, "shape"],
    [{ ...good, key_version: "2" }, "shape"],
    [{ ...good, iv: 12 }, "shape"],
    [{ ...good, iv: "AAAAAAAAAAAAAAAA!" }, "base64"],
    [{ ...good, data: good.data.replace(/=+$/, "") }, "base64"],
    [{ ...good, data: " " + good.data }, "base64"],
    [{ ...good, data: good.data.replaceAll("A", "-") }, "base64"],
    [{ ...good, salt: "AB==" }, "base64"], // non-canonical trailing bits
    [{ ...good, iv: toBase64(new Uint8Array(16)) }, "iv-length"],
    [{ ...good, iv: toBase64(new Uint8Array(11)) }, "iv-length"],
    [{ ...good, salt: toBase64(new Uint8Array(16)) }, "salt-length"],
    [{ ...good, data: toBase64(new Uint8Array(15)) }, "data-length"],
  ];
  for (const [value, problem] of invalid) {
    assert.throws(() => decodeEncryptedData(value), (e: unknown) => {
      assert.ok(e instanceof InvalidEncryptedData, JSON.stringify(value));
      assert.equal(e.problem, problem, JSON.stringify(value));
      return true;
    });
  }
  for (const v of [0, 1, -1, 2.5, 2 ** 31 + 2]) {
    assert.throws(() => decodeEncryptedData({ ...good, key_version: v }), UnsupportedKeyVersion);
  }
});
