/**
 * The vault service: holds the seed while unlocked, derives and caches keys,
 * and seals and opens secrets.
 *
 * @module
 */

import { aesGcmDecrypt, importAesKey, sealEncryptedData } from "./aead.ts";
import { bip32Derive } from "./bip32.ts";
import { wipe } from "./bytes.ts";
import { TtlLruCache } from "./cache.ts";
import { decodeEncryptedData, type EncryptedData } from "./encrypted_data.ts";
import { AlreadyUnlocked, UnsupportedKeyVersion, VaultLocked } from "./errors.ts";
import { DerivedKey } from "./keys.ts";
import { generateMnemonic, mnemonicToSeed, type MnemonicWordCount } from "./mnemonic.ts";
import { formatPath, parsePath } from "./path.ts";
import { CURRENT_KEY_VERSION, encryptionKeyPath, isKeyVersion } from "./paths.ts";
import { Redacted } from "./redact.ts";
import { slip10Derive } from "./slip10.ts";

/**
 * Options of {@linkcode Vault}.
 *
 * @example
 * ```ts
 * import { Vault, type VaultOptions } from "@alknet/vault";
 * const o: VaultOptions = { cacheTtlMs: 60_000, cacheCapacity: 8 };
 * const vault = new Vault(o);
 * console.log(vault.unlocked); // false
 * ```
 */
export interface VaultOptions {
  /** Clock in ms for cache expiry (default `Date.now`). */
  clock?: () => number;
  /** Lifetime of a cached key from insertion, in ms (default one hour). */
  cacheTtlMs?: number;
  /** Maximum number of cached keys (default 64). */
  cacheCapacity?: number;
}

const encoder = new TextEncoder();

/**
 * The vault: locked until given a mnemonic (or seed), then derives Ed25519
 * (SLIP-0010) and secp256k1 (BIP-32) keys and seals secrets with AES-256-GCM
 * under versioned keys. Derived keys are cached by curve and path (TTL one
 * hour from insertion, LRU capacity 64); `lock()` wipes the seed and the
 * cache. The vault renders as `[REDACTED]`.
 *
 * Keys returned by `derive*` are copies the caller owns: call `wipe()` on
 * them when done.
 *
 * @example
 * ```ts
 * import { IDENTITY_PATH, Vault } from "@alknet/vault";
 * const vault = new Vault();
 * await vault.unlock("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about");
 * const id = vault.deriveEd25519(IDENTITY_PATH);
 * const blob = await vault.encrypt("a secret");
 * console.log(new TextDecoder().decode(await vault.decrypt(blob))); // "a secret"
 * id.wipe();
 * vault.lock();
 * ```
 */
export class Vault extends Redacted {
  #seed: Uint8Array | undefined;
  #unlocking = false;
  #generation = 0;
  readonly #keys: TtlLruCache<DerivedKey>;
  readonly #aesKeys: TtlLruCache<CryptoKey>;

  /** Creates a locked vault. */
  constructor(options: VaultOptions = {}) {
    super();
    const common = {
      clock: options.clock,
      ttlMs: options.cacheTtlMs,
      capacity: options.cacheCapacity,
    };
    this.#keys = new TtlLruCache<DerivedKey>({ ...common, onEvict: (k) => k.wipe() });
    this.#aesKeys = new TtlLruCache<CryptoKey>(common);
  }

  /** Whether the vault holds a seed. */
  get unlocked(): boolean {
    return this.#seed !== undefined;
  }

  /**
   * Derived-key cache figures (for tests and monitoring): entries held, and
   * lookups that hit or missed since the vault was created.
   *
   * @example
   * ```ts
   * import { Vault } from "@alknet/vault";
   * console.log(new Vault().cacheStats); // { size: 0, hits: 0, misses: 0 }
   * ```
   */
  get cacheStats(): { size: number; hits: number; misses: number } {
    return { size: this.#keys.size, ...this.#keys.stats };
  }

  /**
   * Unlocks with a BIP39 phrase and optional passphrase. Throws
   * `AlreadyUnlocked` if unlocked (or unlocking), `InvalidMnemonic` for a bad
   * phrase.
   *
   * @example
   * ```ts
   * import { Vault } from "@alknet/vault";
   * const v = new Vault();
   * await v.unlock("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about", "TREZOR");
   * console.log(v.unlocked); // true
   * ```
   */
  async unlock(phrase: string, passphrase = ""): Promise<void> {
    if (this.#seed || this.#unlocking) throw new AlreadyUnlocked();
    this.#unlocking = true;
    const generation = this.#generation;
    try {
      const seed = await mnemonicToSeed(phrase, passphrase);
      if (generation !== this.#generation) {
        wipe(seed);
        throw new VaultLocked();
      }
      this.#seed = seed;
    } finally {
      this.#unlocking = false;
    }
  }

  /**
   * Generates a fresh mnemonic of `words` words (default 24), unlocks with it
   * and returns it so the caller can show it once for backup.
   *
   * @example
   * ```ts
   * import { Vault } from "@alknet/vault";
   * const v = new Vault();
   * const phrase = await v.unlockNew(12);
   * console.log(phrase.split(" ").length, v.unlocked); // 12 true
   * ```
   */
  async unlockNew(words: MnemonicWordCount = 24): Promise<string> {
    if (this.#seed || this.#unlocking) throw new AlreadyUnlocked();
    const phrase = generateMnemonic(words);
    await this.unlock(phrase);
    return phrase;
  }

  /**
   * Unlocks with a raw 16–64 byte seed (copied; the caller may wipe its own).
   *
   * @example
   * ```ts
   * import { Vault } from "@alknet/vault";
   * const v = new Vault();
   * v.unlockWithSeed(new Uint8Array(64));
   * console.log(v.unlocked); // true
   * ```
   */
  unlockWithSeed(seed: Uint8Array): void {
    if (this.#seed || this.#unlocking) throw new AlreadyUnlocked();
    if (seed.length < 16 || seed.length > 64) throw new RangeError("seed must be 16 to 64 bytes");
    this.#seed = seed.slice();
  }

  /**
   * Wipes the seed and every cached key. Idempotent.
   *
   * @example
   * ```ts
   * import { Vault } from "@alknet/vault";
   * const v = new Vault();
   * v.lock();
   * console.log(v.unlocked); // false
   * ```
   */
  lock(): void {
    this.#generation++;
    wipe(this.#seed);
    this.#seed = undefined;
    this.#keys.clear();
    this.#aesKeys.clear();
  }

  #requireSeed(): Uint8Array {
    if (!this.#seed) throw new VaultLocked();
    return this.#seed;
  }

  /**
   * The SLIP-0010 Ed25519 key at `path` (hardened indices only). Throws
   * `VaultLocked` or `InvalidPath`.
   *
   * @example
   * ```ts
   * import { Vault } from "@alknet/vault";
   * const v = new Vault();
   * v.unlockWithSeed(new Uint8Array(32));
   * const k = v.deriveEd25519("m/74'/0'/0'/0'");
   * console.log(k.publicKey.length); // 32
   * k.wipe();
   * ```
   */
  deriveEd25519(path: string): DerivedKey {
    const seed = this.#requireSeed();
    const indices = parsePath(path, { hardenedOnly: true });
    const canonical = formatPath(indices);
    const cacheKey = "ed25519:" + canonical;
    const hit = this.#keys.get(cacheKey);
    if (hit) return hit.clone();
    const node = slip10Derive(seed, indices);
    const key = new DerivedKey("ed25519", canonical, node.key, node.chainCode);
    const out = key.clone();
    this.#keys.set(cacheKey, key);
    return out;
  }

  /**
   * The BIP-32 secp256k1 key at `path`. Throws `VaultLocked` or `InvalidPath`.
   *
   * @example
   * ```ts
   * import { Vault } from "@alknet/vault";
   * const v = new Vault();
   * v.unlockWithSeed(new Uint8Array(32));
   * const k = v.deriveSecp256k1("m/44'/60'/0'/0/0");
   * console.log(k.publicKey.length); // 33
   * k.wipe();
   * ```
   */
  deriveSecp256k1(path: string): DerivedKey {
    const seed = this.#requireSeed();
    const indices = parsePath(path);
    const canonical = formatPath(indices);
    const cacheKey = "secp256k1:" + canonical;
    const hit = this.#keys.get(cacheKey);
    if (hit) return hit.clone();
    const node = bip32Derive(seed, indices);
    const key = new DerivedKey(
      "secp256k1",
      canonical,
      node.privateKey,
      node.chainCode,
      node.publicKey,
    );
    const out = key.clone();
    this.#keys.set(cacheKey, key);
    return out;
  }

  /**
   * The AES-256 key of `version` (≥ 2), derived at `m/74'/2'/0'/(v-2)'`; its
   * `privateKey` is the 32-byte AES key. Throws `UnsupportedKeyVersion`.
   *
   * @example
   * ```ts
   * import { Vault } from "@alknet/vault";
   * const v = new Vault();
   * v.unlockWithSeed(new Uint8Array(32));
   * const k = v.encryptionKey(2);
   * console.log(k.path, k.privateKey.length); // m/74'/2'/0'/0' 32
   * k.wipe();
   * ```
   */
  encryptionKey(version: number): DerivedKey {
    this.#requireSeed();
    if (!isKeyVersion(version)) throw new UnsupportedKeyVersion(version);
    return this.deriveEd25519(encryptionKeyPath(version));
  }

  async #aesKey(version: number): Promise<CryptoKey> {
    const cacheKey = String(version);
    const hit = this.#aesKeys.get(cacheKey);
    if (hit) return hit;
    const generation = this.#generation;
    const raw = this.encryptionKey(version);
    let key: CryptoKey;
    try {
      key = await importAesKey(raw.privateKey);
    } finally {
      raw.wipe();
    }
    if (generation !== this.#generation) throw new VaultLocked();
    this.#aesKeys.set(cacheKey, key);
    return key;
  }

  /**
   * Seals `plaintext` (bytes, or a string as UTF-8) under key `version`
   * (default: the current version, 2).
   *
   * @example
   * ```ts
   * import { Vault } from "@alknet/vault";
   * const v = new Vault();
   * v.unlockWithSeed(new Uint8Array(32));
   * const blob = await v.encrypt(new Uint8Array([1, 2, 3]));
   * console.log(Object.keys(blob)); // [ "key_version", "salt", "iv", "data" ]
   * ```
   */
  async encrypt(
    plaintext: Uint8Array | string,
    version: number = CURRENT_KEY_VERSION,
  ): Promise<EncryptedData> {
    this.#requireSeed();
    if (!isKeyVersion(version)) throw new UnsupportedKeyVersion(version);
    const key = await this.#aesKey(version);
    const bytes = typeof plaintext === "string" ? encoder.encode(plaintext) : plaintext;
    try {
      return await sealEncryptedData(key, version, bytes);
    } finally {
      if (typeof plaintext === "string") wipe(bytes);
    }
  }

  /**
   * Opens an `EncryptedData` (object or JSON text) with the key its
   * `key_version` names. Throws `VaultLocked`, `InvalidEncryptedData`,
   * `UnsupportedKeyVersion` or `DecryptionFailed`.
   *
   * @example
   * ```ts
   * import { Vault } from "@alknet/vault";
   * const v = new Vault();
   * v.unlockWithSeed(new Uint8Array(32));
   * const pt = await v.decrypt(await v.encrypt("hi"));
   * console.log(new TextDecoder().decode(pt)); // "hi"
   * ```
   */
  async decrypt(blob: EncryptedData | string): Promise<Uint8Array> {
    this.#requireSeed();
    const d = decodeEncryptedData(blob);
    const key = await this.#aesKey(d.keyVersion);
    return await aesGcmDecrypt(key, d.iv, d.data);
  }

  /**
   * Re-encrypts a blob under key `toVersion` (default: current). The old
   * blob stays decryptable; the intermediate plaintext is wiped.
   *
   * @example
   * ```ts
   * import { Vault } from "@alknet/vault";
   * const v = new Vault();
   * v.unlockWithSeed(new Uint8Array(32));
   * const rotated = await v.rotate(await v.encrypt("hi"), 3);
   * console.log(rotated.key_version); // 3
   * ```
   */
  async rotate(
    blob: EncryptedData | string,
    toVersion: number = CURRENT_KEY_VERSION,
  ): Promise<EncryptedData> {
    this.#requireSeed();
    if (!isKeyVersion(toVersion)) throw new UnsupportedKeyVersion(toVersion);
    const plaintext = await this.decrypt(blob);
    try {
      return await this.encrypt(plaintext, toVersion);
    } finally {
      wipe(plaintext);
    }
  }
}
