/**
 * `EncryptedData`: the JSON form of a sealed secret,
 * `{ key_version, salt, iv, data }`, with strict decoding.
 *
 * @module
 */

import { fromBase64Strict, toBase64 } from "./bytes.ts";
import { InvalidEncryptedData, UnsupportedKeyVersion } from "./errors.ts";
import { isKeyVersion } from "./paths.ts";

/**
 * A sealed secret as stored and exchanged (snake_case JSON). Binary fields
 * are standard padded base64: `salt` is 32 random bytes (reserved), `iv` 12
 * random bytes, `data` the AES-256-GCM ciphertext followed by its 16-byte tag.
 *
 * @example
 * ```ts
 * import type { EncryptedData } from "@alknet/vault";
 * const sealed: EncryptedData = { key_version: 2, salt: "…", iv: "…", data: "…" }; // base64 fields
 * console.log(Object.keys(sealed)); // [ "key_version", "salt", "iv", "data" ]
 * ```
 */
export interface EncryptedData {
  /** The key version (≥ 2): the key is derived at `m/74'/2'/0'/(v-2)'`. */
  key_version: number;
  /** Base64 of 32 random bytes, reserved for future key separation. */
  salt: string;
  /** Base64 of the 12-byte AES-GCM nonce. */
  iv: string;
  /** Base64 of ciphertext || 16-byte tag. */
  data: string;
}

/**
 * `EncryptedData` with its binary fields decoded.
 *
 * @example
 * ```ts
 * import type { DecodedEncryptedData } from "@alknet/vault";
 * const d: DecodedEncryptedData = {
 *   keyVersion: 2,
 *   salt: new Uint8Array(32),
 *   iv: new Uint8Array(12),
 *   data: new Uint8Array(16),
 * };
 * console.log(d.iv.length); // 12
 * ```
 */
export interface DecodedEncryptedData {
  /** The key version. */
  keyVersion: number;
  /** 32 bytes. */
  salt: Uint8Array;
  /** 12 bytes. */
  iv: Uint8Array;
  /** Ciphertext || tag (at least 16 bytes). */
  data: Uint8Array;
}

/**
 * Length in bytes of the AES-GCM nonce.
 *
 * @example
 * ```ts
 * import { IV_LENGTH } from "@alknet/vault";
 * console.log(IV_LENGTH); // 12
 * ```
 */
export const IV_LENGTH = 12;

/**
 * Length in bytes of the reserved salt.
 *
 * @example
 * ```ts
 * import { SALT_LENGTH } from "@alknet/vault";
 * console.log(SALT_LENGTH); // 32
 * ```
 */
export const SALT_LENGTH = 32;

/**
 * Length in bytes of the AES-GCM tag.
 *
 * @example
 * ```ts
 * import { TAG_LENGTH } from "@alknet/vault";
 * console.log(TAG_LENGTH); // 16
 * ```
 */
export const TAG_LENGTH = 16;

const FIELDS = ["key_version", "salt", "iv", "data"];

/**
 * Strictly decodes an `EncryptedData` value (a JSON string or a parsed
 * object). Throws `InvalidEncryptedData` for bad JSON, missing, mistyped or
 * extra fields, non-canonical base64, an iv that is not 12 bytes, a salt that
 * is not 32 bytes or data shorter than the tag; `UnsupportedKeyVersion` for a
 * version that is not an integer ≥ 2.
 *
 * @example
 * ```ts
 * import { decodeEncryptedData } from "@alknet/vault";
 * const d = decodeEncryptedData(JSON.stringify({
 *   key_version: 2, salt: btoa("s".repeat(32)), iv: btoa("i".repeat(12)), data: btoa("d".repeat(16)),
 * }));
 * console.log(d.keyVersion, d.iv.length); // 2 12
 * ```
 */
export function decodeEncryptedData(input: string | unknown): DecodedEncryptedData {
  let value: unknown = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch {
      throw new InvalidEncryptedData("json", "not valid JSON");
    }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidEncryptedData("shape", "expected a JSON object");
  }
  const obj = value as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    if (!FIELDS.includes(k)) {
      throw new InvalidEncryptedData("shape", `unexpected field ${JSON.stringify(k.slice(0, 40))}`);
    }
  }
  for (const k of FIELDS) {
    if (!(k in obj)) throw new InvalidEncryptedData("shape", `missing field "${k}"`);
  }
  if (typeof obj.key_version !== "number") {
    throw new InvalidEncryptedData("shape", `"key_version" must be a number`);
  }
  if (!isKeyVersion(obj.key_version)) throw new UnsupportedKeyVersion(obj.key_version);
  const bytes = (name: "salt" | "iv" | "data"): Uint8Array => {
    const v = obj[name];
    if (typeof v !== "string") {
      throw new InvalidEncryptedData("shape", `"${name}" must be a string`);
    }
    const b = fromBase64Strict(v);
    if (!b) {
      throw new InvalidEncryptedData("base64", `"${name}" is not standard padded base64`);
    }
    return b;
  };
  const salt = bytes("salt");
  const iv = bytes("iv");
  const data = bytes("data");
  if (iv.length !== IV_LENGTH) {
    throw new InvalidEncryptedData("iv-length", `iv must be ${IV_LENGTH} bytes, got ${iv.length}`);
  }
  if (salt.length !== SALT_LENGTH) {
    throw new InvalidEncryptedData(
      "salt-length",
      `salt must be ${SALT_LENGTH} bytes, got ${salt.length}`,
    );
  }
  if (data.length < TAG_LENGTH) {
    throw new InvalidEncryptedData(
      "data-length",
      `data must hold at least the ${TAG_LENGTH}-byte tag, got ${data.length} bytes`,
    );
  }
  return { keyVersion: obj.key_version, salt, iv, data };
}

/**
 * Checks an `EncryptedData` value (string or object) and returns it as a
 * plain, validated `EncryptedData` object.
 *
 * @example
 * ```ts
 * import { parseEncryptedData } from "@alknet/vault";
 * const e = parseEncryptedData({
 *   key_version: 2, salt: btoa("s".repeat(32)), iv: btoa("i".repeat(12)), data: btoa("d".repeat(16)),
 * });
 * console.log(e.key_version); // 2
 * ```
 */
export function parseEncryptedData(input: string | unknown): EncryptedData {
  return encodeEncryptedData(decodeEncryptedData(input));
}

/**
 * Encodes decoded fields into the `EncryptedData` JSON shape.
 *
 * @example
 * ```ts
 * import { encodeEncryptedData } from "@alknet/vault";
 * const e = encodeEncryptedData({
 *   keyVersion: 2, salt: new Uint8Array(32), iv: new Uint8Array(12), data: new Uint8Array(16),
 * });
 * console.log(JSON.stringify(e).startsWith('{"key_version":2,')); // true
 * ```
 */
export function encodeEncryptedData(d: DecodedEncryptedData): EncryptedData {
  return {
    key_version: d.keyVersion,
    salt: toBase64(d.salt),
    iv: toBase64(d.iv),
    data: toBase64(d.data),
  };
}
