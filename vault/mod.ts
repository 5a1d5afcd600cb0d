/**
 * `@alknet/vault` — one BIP39 mnemonic derives every key a node needs
 * (SLIP-0010 Ed25519 for the identity, SSH host and encryption keys; BIP-32
 * secp256k1 for Ethereum) and seals secrets with AES-256-GCM as
 * `EncryptedData`. A keystore file keeps the mnemonic sealed under a
 * passphrase (scrypt), so it never lands on disk in clear.
 *
 * Secrets are `Uint8Array`s zero-filled when dropped; derived keys and the
 * vault render as `[REDACTED]`.
 *
 * @example
 * ```ts
 * import { IDENTITY_PATH, Vault } from "@alknet/vault";
 *
 * const vault = new Vault();
 * const phrase = await vault.unlockNew(24); // show it once, for backup
 * const identity = vault.deriveEd25519(IDENTITY_PATH);
 * console.log(identity.publicKey.length, String(identity)); // 32 [REDACTED]
 *
 * const blob = await vault.encrypt("database password");
 * const rotated = await vault.rotate(blob, 3);
 * console.log(new TextDecoder().decode(await vault.decrypt(rotated))); // "database password"
 * identity.wipe();
 * vault.lock();
 * ```
 *
 * @module
 */

export * from "./errors.ts";
export { REDACTED, Redacted } from "./redact.ts";
export {
  copyBytes,
  equalBytes,
  fromBase64Strict,
  fromHex,
  toBase64,
  toHex,
  wipe,
} from "./bytes.ts";
export {
  entropyToMnemonic,
  generateMnemonic,
  isMnemonicWordCount,
  MNEMONIC_WORD_COUNTS,
  mnemonicToSeed,
  type MnemonicWordCount,
  normalizeMnemonic,
  validateMnemonic,
} from "./mnemonic.ts";
export {
  canonicalPath,
  formatPath,
  HARDENED_OFFSET,
  parsePath,
  type ParsePathOptions,
} from "./path.ts";
export { slip10Child, slip10Derive, slip10Master, type Slip10Node } from "./slip10.ts";
export { bip32Derive, type Bip32Node } from "./bip32.ts";
export {
  CURRENT_KEY_VERSION,
  devicePath,
  encryptionKeyPath,
  ETHEREUM_PATH,
  IDENTITY_PATH,
  isKeyVersion,
  MAX_KEY_VERSION,
  MIN_KEY_VERSION,
  SSH_HOST_PATH,
} from "./paths.ts";
export { type Curve, DerivedKey } from "./keys.ts";
export {
  type DecodedEncryptedData,
  decodeEncryptedData,
  encodeEncryptedData,
  type EncryptedData,
  IV_LENGTH,
  parseEncryptedData,
  SALT_LENGTH,
  TAG_LENGTH,
} from "./encrypted_data.ts";
export {
  aesGcmDecrypt,
  aesGcmEncrypt,
  importAesKey,
  openEncryptedData,
  sealEncryptedData,
} from "./aead.ts";
export { TtlLruCache, type TtlLruCacheOptions } from "./cache.ts";
export { Vault, type VaultOptions } from "./vault.ts";
export { writeFileAtomic, type WriteFileAtomicOptions } from "./atomic_write.ts";
export {
  createKeystore,
  DEFAULT_SCRYPT_PARAMS,
  KEYSTORE_VERSION,
  MnemonicSecret,
  openKeystore,
  readKeystoreFile,
  type ScryptParams,
  unlockFromKeystore,
  writeKeystoreFile,
  type WriteKeystoreOptions,
} from "./keystore.ts";
export { ethereumAddress, toChecksumAddress } from "./ethereum.ts";
