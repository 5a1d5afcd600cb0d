/**
 * The keystore: a JSON file (mode 0600) holding the mnemonic (and its
 * optional BIP39 passphrase) sealed with AES-256-GCM under a key from
 * scrypt(passphrase). The mnemonic never touches the disk in clear.
 *
 * @module
 */

import { scryptAsync } from "@noble/hashes/scrypt.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { importAesKey } from "./aead.ts";
import { writeFileAtomic } from "./atomic_write.ts";
import { copyBytes, equalBytes, fromBase64Strict, toBase64, wipe } from "./bytes.ts";
import {
  DecryptionFailed,
  KeystoreCorrupt,
  KeystoreExists,
  KeystoreNotFound,
  VaultError,
  WrongPassphrase,
} from "./errors.ts";
import { validateMnemonic } from "./mnemonic.ts";
import { Redacted } from "./redact.ts";
import type { Vault } from "./vault.ts";

/**
 * scrypt cost parameters: N = 2^logN, block size r, parallelism p.
 *
 * @example
 * ```ts
 * import type { ScryptParams } from "@alknet/vault";
 * const standard: ScryptParams = { logN: 17, r: 8, p: 1 }; // the default: N = 2^17
 * console.log(2 ** standard.logN); // 131072
 * ```
 */
export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  logN: number;
  /** Block size. */
  r: number;
  /** Parallelism. */
  p: number;
}

/**
 * The default scrypt parameters: N = 2^17, r = 8, p = 1 (128 MiB).
 *
 * @example
 * ```ts
 * import { DEFAULT_SCRYPT_PARAMS } from "@alknet/vault";
 * console.log(DEFAULT_SCRYPT_PARAMS.logN); // 17
 * ```
 */
export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = Object.freeze({
  logN: 17,
  r: 8,
  p: 1,
});

/**
 * The keystore format version this code writes and reads.
 *
 * @example
 * ```ts
 * import { KEYSTORE_VERSION } from "@alknet/vault";
 * console.log(KEYSTORE_VERSION); // 1
 * ```
 */
export const KEYSTORE_VERSION = 1;

const MAX_SCRYPT_MEMORY = 2 ** 31;

/**
 * What a keystore holds: the mnemonic and its BIP39 passphrase (empty when
 * none). Renders as `[REDACTED]`.
 *
 * @example
 * ```ts
 * import { MnemonicSecret } from "@alknet/vault";
 * const s = new MnemonicSecret("abandon ... about", "");
 * console.log(String(s)); // "[REDACTED]"
 * ```
 */
export class MnemonicSecret extends Redacted {
  #mnemonic: string;
  #passphrase: string;
  /** Wraps a phrase and its BIP39 passphrase. */
  constructor(mnemonic: string, mnemonicPassphrase = "") {
    super();
    this.#mnemonic = mnemonic;
    this.#passphrase = mnemonicPassphrase;
  }
  /** The BIP39 phrase. */
  get mnemonic(): string {
    return this.#mnemonic;
  }
  /** The BIP39 passphrase ("" when none). */
  get mnemonicPassphrase(): string {
    return this.#passphrase;
  }
}

function checkParams(p: ScryptParams): string | undefined {
  const ints = [p.logN, p.r, p.p].every((x) => Number.isInteger(x) && x >= 1);
  if (!ints) return "scrypt parameters must be positive integers";
  if (p.logN > 24 || p.r > 64 || p.p > 64) return "scrypt parameters out of range";
  if (128 * p.r * (2 ** p.logN + p.p) > MAX_SCRYPT_MEMORY) return "scrypt needs too much memory";
  return undefined;
}

const encoder = new TextEncoder();

interface Header {
  alknet_keystore: number;
  kdf: { name: "scrypt"; log_n: number; r: number; p: number; salt: string };
  cipher: { name: "aes-256-gcm"; iv: string };
}

function headerAad(h: Header): Uint8Array {
  // Canonical field order, so the AAD does not depend on how the file was formatted.
  return encoder.encode(JSON.stringify({
    alknet_keystore: h.alknet_keystore,
    kdf: { name: h.kdf.name, log_n: h.kdf.log_n, r: h.kdf.r, p: h.kdf.p, salt: h.kdf.salt },
    cipher: { name: h.cipher.name, iv: h.cipher.iv },
  }));
}

async function deriveKeys(
  passphrase: string,
  salt: Uint8Array,
  params: ScryptParams,
): Promise<{ aes: CryptoKey; check: Uint8Array }> {
  const pw = encoder.encode(passphrase.normalize("NFKC"));
  const dk = await scryptAsync(pw, salt, {
    N: 2 ** params.logN,
    r: params.r,
    p: params.p,
    dkLen: 64,
    maxmem: MAX_SCRYPT_MEMORY + 1024,
  });
  try {
    const aes = await importAesKey(dk.subarray(0, 32));
    const check = sha256(dk.subarray(32));
    return { aes, check };
  } finally {
    wipe(pw, dk);
  }
}

async function seal(
  key: CryptoKey,
  iv: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Promise<Uint8Array> {
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv: copyBytes(iv), additionalData: copyBytes(aad) },
    key,
    plaintext as Uint8Array<ArrayBuffer>,
  );
  return new Uint8Array(ct);
}

async function open(
  key: CryptoKey,
  iv: Uint8Array,
  data: Uint8Array,
  aad: Uint8Array,
): Promise<Uint8Array> {
  try {
    const pt = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: copyBytes(iv), additionalData: copyBytes(aad) },
      key,
      data as Uint8Array<ArrayBuffer>,
    );
    return new Uint8Array(pt);
  } catch {
    throw new DecryptionFailed();
  }
}

/**
 * Builds the text of a keystore file sealing `secret` under `passphrase`.
 * The phrase is validated first (`InvalidMnemonic`); an empty passphrase is
 * refused.
 *
 * @example
 * ```ts
 * import { createKeystore, MnemonicSecret } from "@alknet/vault";
 * const text = await createKeystore(
 *   new MnemonicSecret("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"),
 *   "correct horse",
 *   { logN: 10, r: 8, p: 1 },
 * );
 * console.log(JSON.parse(text).kdf.name); // "scrypt"
 * ```
 */
export async function createKeystore(
  secret: MnemonicSecret,
  passphrase: string,
  params: ScryptParams = DEFAULT_SCRYPT_PARAMS,
): Promise<string> {
  const mnemonic = validateMnemonic(secret.mnemonic);
  if (passphrase === "") {
    throw new VaultError("empty-passphrase", "the keystore passphrase is empty");
  }
  const bad = checkParams(params);
  if (bad) throw new RangeError(bad);
  const salt = crypto.getRandomValues(new Uint8Array(32));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const header: Header = {
    alknet_keystore: KEYSTORE_VERSION,
    kdf: { name: "scrypt", log_n: params.logN, r: params.r, p: params.p, salt: toBase64(salt) },
    cipher: { name: "aes-256-gcm", iv: toBase64(iv) },
  };
  const { aes, check } = await deriveKeys(passphrase, salt, params);
  const payload = encoder.encode(JSON.stringify({
    mnemonic,
    passphrase: secret.mnemonicPassphrase,
  }));
  try {
    const data = await seal(aes, iv, payload, headerAad(header));
    return JSON.stringify({ ...header, check: toBase64(check), data: toBase64(data) }, null, 2) +
      "\n";
  } finally {
    wipe(payload);
  }
}

/**
 * Opens keystore text with `passphrase`. Throws `KeystoreCorrupt` when the
 * text is not a keystore or was modified, `WrongPassphrase` when the
 * passphrase does not match. `file` names the keystore in error messages.
 *
 * @example
 * ```ts
 * import { createKeystore, MnemonicSecret, openKeystore } from "@alknet/vault";
 * const phrase = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
 * const text = await createKeystore(new MnemonicSecret(phrase), "pw", { logN: 10, r: 8, p: 1 });
 * console.log((await openKeystore(text, "pw")).mnemonic === phrase); // true
 * ```
 */
export async function openKeystore(
  text: string,
  passphrase: string,
  file = "keystore",
): Promise<MnemonicSecret> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new KeystoreCorrupt(file, "not JSON");
  }
  const o = v as Record<string, unknown>;
  if (typeof o !== "object" || o === null || Array.isArray(o)) {
    throw new KeystoreCorrupt(file, "not a JSON object");
  }
  if (o.alknet_keystore !== KEYSTORE_VERSION) {
    throw new KeystoreCorrupt(
      file,
      typeof o.alknet_keystore === "number"
        ? `unsupported keystore version ${o.alknet_keystore}`
        : `missing "alknet_keystore" version`,
    );
  }
  const kdf = o.kdf as Record<string, unknown> | undefined;
  const cipher = o.cipher as Record<string, unknown> | undefined;
  if (typeof kdf !== "object" || kdf === null || kdf.name !== "scrypt") {
    throw new KeystoreCorrupt(file, `"kdf" must be scrypt`);
  }
  if (typeof cipher !== "object" || cipher === null || cipher.name !== "aes-256-gcm") {
    throw new KeystoreCorrupt(file, `"cipher" must be aes-256-gcm`);
  }
  const params = { logN: kdf.log_n, r: kdf.r, p: kdf.p } as ScryptParams;
  const bad = checkParams(params);
  if (bad) throw new KeystoreCorrupt(file, bad);
  const b64 = (value: unknown, name: string, len?: number): Uint8Array => {
    const b = typeof value === "string" ? fromBase64Strict(value) : undefined;
    if (!b) throw new KeystoreCorrupt(file, `"${name}" is not base64`);
    if (len !== undefined && b.length !== len) {
      throw new KeystoreCorrupt(file, `"${name}" must be ${len} bytes`);
    }
    return b;
  };
  const salt = b64(kdf.salt, "kdf.salt", 32);
  const iv = b64(cipher.iv, "cipher.iv", 12);
  const check = b64(o.check, "check", 32);
  const data = b64(o.data, "data");
  if (data.length < 16) throw new KeystoreCorrupt(file, `"data" is too short`);
  const header: Header = {
    alknet_keystore: KEYSTORE_VERSION,
    kdf: { name: "scrypt", log_n: params.logN, r: params.r, p: params.p, salt: kdf.salt as string },
    cipher: { name: "aes-256-gcm", iv: cipher.iv as string },
  };
  const { aes, check: expected } = await deriveKeys(passphrase, salt, params);
  if (!equalBytes(check, expected)) throw new WrongPassphrase(file);
  let payload: Uint8Array;
  try {
    payload = await open(aes, iv, data, headerAad(header));
  } catch {
    throw new KeystoreCorrupt(file, "the sealed data or its header was modified");
  }
  try {
    const p = JSON.parse(new TextDecoder().decode(payload));
    if (typeof p?.mnemonic !== "string" || typeof p?.passphrase !== "string") {
      throw new Error();
    }
    return new MnemonicSecret(p.mnemonic, p.passphrase);
  } catch {
    throw new KeystoreCorrupt(file, "the sealed payload is not valid");
  } finally {
    wipe(payload);
  }
}

/**
 * Options of {@linkcode writeKeystoreFile}.
 *
 * @example
 * ```ts
 * import type { WriteKeystoreOptions } from "@alknet/vault";
 * const o: WriteKeystoreOptions = { params: { logN: 17, r: 8, p: 1 }, overwrite: false };
 * console.log(o.overwrite); // false
 * ```
 */
export interface WriteKeystoreOptions {
  /** scrypt parameters (default N = 2^17, r = 8, p = 1). */
  params?: ScryptParams;
  /** Replace an existing file (default: refuse with `KeystoreExists`). */
  overwrite?: boolean;
}

/**
 * Writes a keystore file atomically with mode 0600. Refuses to replace an
 * existing file unless `overwrite` is set.
 *
 * @example
 * ```ts
 * import { MnemonicSecret, writeKeystoreFile } from "@alknet/vault";
 * const dir = await Deno.makeTempDir();
 * await writeKeystoreFile(
 *   `${dir}/ks.json`,
 *   new MnemonicSecret("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"),
 *   "pw",
 *   { params: { logN: 10, r: 8, p: 1 } },
 * );
 * console.log((await Deno.stat(`${dir}/ks.json`)).mode! & 0o777); // 384 (0o600)
 * ```
 */
export async function writeKeystoreFile(
  path: string,
  secret: MnemonicSecret,
  passphrase: string,
  options: WriteKeystoreOptions = {},
): Promise<void> {
  if (!options.overwrite && await exists(path)) throw new KeystoreExists(path);
  const text = await createKeystore(secret, passphrase, options.params);
  try {
    await writeFileAtomic(path, encoder.encode(text), {
      mode: 0o600,
      createNew: !options.overwrite,
    });
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) throw new KeystoreExists(path);
    throw e;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Reads and opens a keystore file. Throws `KeystoreNotFound`,
 * `KeystoreCorrupt` or `WrongPassphrase`; never modifies the file.
 *
 * @example
 * ```ts
 * import { MnemonicSecret, readKeystoreFile, writeKeystoreFile } from "@alknet/vault";
 * const path = `${await Deno.makeTempDir()}/ks.json`;
 * const phrase = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
 * await writeKeystoreFile(path, new MnemonicSecret(phrase), "pw", { params: { logN: 10, r: 8, p: 1 } });
 * console.log((await readKeystoreFile(path, "pw")).mnemonic === phrase); // true
 * ```
 */
export async function readKeystoreFile(path: string, passphrase: string): Promise<MnemonicSecret> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new KeystoreNotFound(path);
    throw e;
  }
  return await openKeystore(text, passphrase, path);
}

/**
 * Reads a keystore file and unlocks `vault` with the phrase and BIP39
 * passphrase it holds.
 *
 * @example
 * ```ts
 * import { MnemonicSecret, unlockFromKeystore, writeKeystoreFile } from "@alknet/vault";
 * import { Vault } from "@alknet/vault";
 * const path = `${await Deno.makeTempDir()}/ks.json`;
 * const phrase = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
 * await writeKeystoreFile(path, new MnemonicSecret(phrase), "pw", { params: { logN: 10, r: 8, p: 1 } });
 * const vault = new Vault();
 * await unlockFromKeystore(vault, path, "pw");
 * console.log(vault.unlocked); // true
 * ```
 */
export async function unlockFromKeystore(
  vault: Vault,
  path: string,
  passphrase: string,
): Promise<void> {
  const secret = await readKeystoreFile(path, passphrase);
  await vault.unlock(secret.mnemonic, secret.mnemonicPassphrase);
}
