/**
 * AES-256-GCM through WebCrypto: sealing and opening `EncryptedData`.
 *
 * @module
 */

import { copyBytes, wipe } from "./bytes.ts";
import {
  decodeEncryptedData,
  encodeEncryptedData,
  type EncryptedData,
  IV_LENGTH,
  SALT_LENGTH,
} from "./encrypted_data.ts";
import { DecryptionFailed, UnsupportedKeyVersion } from "./errors.ts";
import { isKeyVersion } from "./paths.ts";

/**
 * Imports 32 raw bytes as a non-extractable AES-256-GCM key. The caller may
 * wipe `raw` afterwards.
 *
 * @example
 * ```ts
 * import { importAesKey } from "@alknet/vault";
 * const key = await importAesKey(new Uint8Array(32));
 * console.log(key.algorithm.name); // "AES-GCM"
 * ```
 */
export async function importAesKey(raw: Uint8Array): Promise<CryptoKey> {
  if (raw.length !== 32) throw new RangeError("an AES-256 key is 32 bytes");
  const copy = copyBytes(raw);
  try {
    return await crypto.subtle.importKey("raw", copy, "AES-GCM", false, ["encrypt", "decrypt"]);
  } finally {
    wipe(copy);
  }
}

/**
 * AES-256-GCM encryption without AAD: returns ciphertext || 16-byte tag.
 *
 * @example
 * ```ts
 * import { aesGcmEncrypt, importAesKey } from "@alknet/vault";
 * const key = await importAesKey(new Uint8Array(32));
 * const out = await aesGcmEncrypt(key, new Uint8Array(12), new Uint8Array(0));
 * console.log(out.length); // 16
 * ```
 */
export async function aesGcmEncrypt(
  key: CryptoKey,
  iv: Uint8Array,
  plaintext: Uint8Array,
): Promise<Uint8Array> {
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv: copyBytes(iv), tagLength: 128 },
    key,
    plaintext as Uint8Array<ArrayBuffer>,
  );
  return new Uint8Array(ct);
}

/**
 * AES-256-GCM decryption without AAD of ciphertext || tag; any failure is a
 * `DecryptionFailed`.
 *
 * @example
 * ```ts
 * import { aesGcmDecrypt, aesGcmEncrypt, importAesKey } from "@alknet/vault";
 * const key = await importAesKey(new Uint8Array(32));
 * const iv = new Uint8Array(12);
 * const pt = await aesGcmDecrypt(key, iv, await aesGcmEncrypt(key, iv, new Uint8Array([1])));
 * console.log(pt); // Uint8Array(1) [ 1 ]
 * ```
 */
export async function aesGcmDecrypt(
  key: CryptoKey,
  iv: Uint8Array,
  data: Uint8Array,
): Promise<Uint8Array> {
  try {
    const pt = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: copyBytes(iv), tagLength: 128 },
      key,
      data as Uint8Array<ArrayBuffer>,
    );
    return new Uint8Array(pt);
  } catch {
    throw new DecryptionFailed();
  }
}

/**
 * Seals `plaintext` under `key` as `EncryptedData` with a fresh random iv and
 * salt, labelled with `keyVersion`.
 *
 * @example
 * ```ts
 * import { importAesKey, sealEncryptedData } from "@alknet/vault";
 * const key = await importAesKey(new Uint8Array(32));
 * const blob = await sealEncryptedData(key, 2, new TextEncoder().encode("hi"));
 * console.log(blob.key_version); // 2
 * ```
 */
export async function sealEncryptedData(
  key: CryptoKey,
  keyVersion: number,
  plaintext: Uint8Array,
): Promise<EncryptedData> {
  if (!isKeyVersion(keyVersion)) throw new UnsupportedKeyVersion(keyVersion);
  const iv = crypto.getRandomValues(new Uint8Array(IV_LENGTH));
  const salt = crypto.getRandomValues(new Uint8Array(SALT_LENGTH));
  const data = await aesGcmEncrypt(key, iv, plaintext);
  return encodeEncryptedData({ keyVersion, salt, iv, data });
}

/**
 * Opens `EncryptedData` (string or object) with `key`, which the caller chose
 * by the blob's `key_version`. Malformed input → `InvalidEncryptedData`; wrong
 * key or modified data, tag or iv → `DecryptionFailed`.
 *
 * @example
 * ```ts
 * import { importAesKey, openEncryptedData, sealEncryptedData } from "@alknet/vault";
 * const key = await importAesKey(new Uint8Array(32));
 * const blob = await sealEncryptedData(key, 2, new Uint8Array([42]));
 * console.log(await openEncryptedData(key, blob)); // Uint8Array(1) [ 42 ]
 * ```
 */
export async function openEncryptedData(
  key: CryptoKey,
  blob: EncryptedData | string,
): Promise<Uint8Array> {
  const d = decodeEncryptedData(blob);
  return await aesGcmDecrypt(key, d.iv, d.data);
}
