/**
 * Typed errors of the vault. Messages say what is wrong and never contain key
 * material, seeds or plaintext.
 *
 * @module
 */

/**
 * Base class of every error the vault throws.
 *
 * @example
 * ```ts
 * import { VaultError, VaultLocked } from "@alknet/vault";
 * console.log(new VaultLocked() instanceof VaultError); // true
 * ```
 */
export class VaultError extends Error {
  /** A stable machine-readable code, e.g. `"vault-locked"`. */
  readonly code: string;
  /** Creates an error with a stable `code` and a human message. */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * What is wrong with a mnemonic.
 *
 * @example
 * ```ts
 * import { InvalidMnemonic, type MnemonicProblem } from "@alknet/vault";
 * const p: MnemonicProblem =
 *   new InvalidMnemonic("checksum", "the checksum does not match").problem;
 * console.log(p); // "checksum"
 * ```
 */
export type MnemonicProblem = "empty" | "word-count" | "unknown-word" | "checksum";

/**
 * A mnemonic that is not a valid BIP39 English phrase. For an unknown word,
 * `position` is its 1-based position.
 *
 * @example
 * ```ts
 * import { InvalidMnemonic } from "@alknet/vault";
 * const e = new InvalidMnemonic("unknown-word", "word 3 ('abandonn') is not in the BIP39 English wordlist", 3);
 * console.log(e.problem, e.position); // "unknown-word" 3
 * ```
 */
export class InvalidMnemonic extends VaultError {
  /** The kind of problem. */
  readonly problem: MnemonicProblem;
  /** 1-based position of the offending word, for `unknown-word`. */
  readonly position?: number;
  /** Creates the error. */
  constructor(problem: MnemonicProblem, message: string, position?: number) {
    super("invalid-mnemonic", `invalid mnemonic: ${message}`);
    this.problem = problem;
    this.position = position;
  }
}

/**
 * A derivation path that does not parse or is not allowed for the curve.
 *
 * @example
 * ```ts
 * import { InvalidPath } from "@alknet/vault";
 * console.log(new InvalidPath("m/0", "Ed25519 allows hardened indices only").message);
 * ```
 */
export class InvalidPath extends VaultError {
  /** The offending path text (paths are not secret). */
  readonly path: string;
  /** Creates the error. */
  constructor(path: string, reason: string) {
    const shown = path.length > 80 ? path.slice(0, 80) + "…" : path;
    super("invalid-path", `invalid derivation path ${JSON.stringify(shown)}: ${reason}`);
    this.path = path;
  }
}

/**
 * The vault is locked: unlock it before deriving, encrypting or decrypting.
 *
 * @example
 * ```ts
 * import { VaultLocked } from "@alknet/vault";
 * console.log(new VaultLocked().message);
 * ```
 */
export class VaultLocked extends VaultError {
  /** Creates the error. */
  constructor() {
    super("vault-locked", "the vault is locked; unlock it first");
  }
}

/**
 * `unlock` was called on a vault that is already unlocked.
 *
 * @example
 * ```ts
 * import { AlreadyUnlocked } from "@alknet/vault";
 * console.log(new AlreadyUnlocked().code); // "already-unlocked"
 * ```
 */
export class AlreadyUnlocked extends VaultError {
  /** Creates the error. */
  constructor() {
    super("already-unlocked", "the vault is already unlocked; lock it before unlocking again");
  }
}

/**
 * Why an `EncryptedData` value was refused before any decryption.
 *
 * @example
 * ```ts
 * import { type EncryptedDataProblem, InvalidEncryptedData } from "@alknet/vault";
 * const p: EncryptedDataProblem =
 *   new InvalidEncryptedData("iv-length", "iv must be 12 bytes").problem;
 * console.log(p); // "iv-length"
 * ```
 */
export type EncryptedDataProblem =
  | "json"
  | "shape"
  | "base64"
  | "iv-length"
  | "salt-length"
  | "data-length";

/**
 * An `EncryptedData` value that is malformed (bad JSON, missing or extra
 * fields, bad base64, wrong iv/salt length, data shorter than the tag).
 *
 * @example
 * ```ts
 * import { InvalidEncryptedData } from "@alknet/vault";
 * console.log(new InvalidEncryptedData("iv-length", "iv must be 12 bytes, got 8").problem);
 * ```
 */
export class InvalidEncryptedData extends VaultError {
  /** The kind of problem. */
  readonly problem: EncryptedDataProblem;
  /** Creates the error. */
  constructor(problem: EncryptedDataProblem, message: string) {
    super("invalid-encrypted-data", `invalid encrypted data: ${message}`);
    this.problem = problem;
  }
}

/**
 * A key version the vault cannot use (not an integer, below 2, or beyond the
 * last hardened index).
 *
 * @example
 * ```ts
 * import { UnsupportedKeyVersion } from "@alknet/vault";
 * console.log(new UnsupportedKeyVersion(1).message);
 * ```
 */
export class UnsupportedKeyVersion extends VaultError {
  /** The refused version, as given. */
  readonly version: unknown;
  /** Creates the error. */
  constructor(version: unknown) {
    const shown = typeof version === "number" ? String(version) : typeof version;
    super(
      "unsupported-key-version",
      `unsupported key version ${shown}: versions are integers from 2 to 2147483649`,
    );
    this.version = version;
  }
}

/**
 * Authenticated decryption failed: wrong key, or the data, tag or iv were
 * modified. Deliberately says nothing more.
 *
 * @example
 * ```ts
 * import { DecryptionFailed } from "@alknet/vault";
 * console.log(new DecryptionFailed().message);
 * ```
 */
export class DecryptionFailed extends VaultError {
  /** Creates the error. */
  constructor() {
    super(
      "decryption-failed",
      "decryption failed: wrong key, or the data was modified",
    );
  }
}

/**
 * Base class of keystore file errors.
 *
 * @example
 * ```ts
 * import { KeystoreError, WrongPassphrase } from "@alknet/vault";
 * console.log(new WrongPassphrase("ks.json") instanceof KeystoreError); // true
 * ```
 */
export class KeystoreError extends VaultError {
  /** The keystore file concerned. */
  readonly file: string;
  /** Creates the error. */
  constructor(code: string, file: string, message: string, options?: ErrorOptions) {
    super(code, `keystore ${file}: ${message}`, options);
    this.file = file;
  }
}

/**
 * The passphrase does not open the keystore (the file is left untouched).
 *
 * @example
 * ```ts
 * import { WrongPassphrase } from "@alknet/vault";
 * console.log(new WrongPassphrase("ks.json").message); // "keystore ks.json: wrong passphrase"
 * ```
 */
export class WrongPassphrase extends KeystoreError {
  /** Creates the error. */
  constructor(file: string) {
    super("wrong-passphrase", file, "wrong passphrase");
  }
}

/**
 * The keystore file is not a valid keystore (bad JSON, missing fields,
 * unsupported parameters, or ciphertext modified).
 *
 * @example
 * ```ts
 * import { KeystoreCorrupt } from "@alknet/vault";
 * console.log(new KeystoreCorrupt("ks.json", "not JSON").message);
 * ```
 */
export class KeystoreCorrupt extends KeystoreError {
  /** Creates the error. */
  constructor(file: string, reason: string) {
    super("keystore-corrupt", file, `not a valid keystore: ${reason}`);
  }
}

/**
 * The keystore file does not exist.
 *
 * @example
 * ```ts
 * import { KeystoreNotFound } from "@alknet/vault";
 * console.log(new KeystoreNotFound("ks.json").message);
 * ```
 */
export class KeystoreNotFound extends KeystoreError {
  /** Creates the error. */
  constructor(file: string) {
    super("keystore-not-found", file, "no such file");
  }
}

/**
 * Creating a keystore would overwrite an existing file.
 *
 * @example
 * ```ts
 * import { KeystoreExists } from "@alknet/vault";
 * console.log(new KeystoreExists("ks.json").message);
 * ```
 */
export class KeystoreExists extends KeystoreError {
  /** Creates the error. */
  constructor(file: string) {
    super("keystore-exists", file, "already exists (refusing to overwrite)");
  }
}
