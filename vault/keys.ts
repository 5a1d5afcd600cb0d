/**
 * `DerivedKey`: a key derived from the vault's seed. It renders as
 * `[REDACTED]` and can be wiped.
 *
 * @module
 */

import { ed25519 } from "@noble/curves/ed25519.js";
import { wipe } from "./bytes.ts";
import { VaultError } from "./errors.ts";
import { Redacted } from "./redact.ts";

/**
 * The curves the vault derives keys on.
 *
 * @example
 * ```ts
 * import type { Curve } from "@alknet/vault";
 * const curves: Curve[] = ["ed25519", "secp256k1"];
 * console.log(curves.length); // 2
 * ```
 */
export type Curve = "ed25519" | "secp256k1";

/**
 * A derived key pair: curve, canonical path, private key, public key and
 * chain code. Prints and serializes as `[REDACTED]`; `wipe()` zero-fills the
 * private key and chain code, after which reading them throws.
 *
 * Ed25519 public keys are the raw 32-byte RFC 8032 keys (computed on first
 * use); secp256k1 public keys are 33-byte compressed points.
 *
 * @example
 * ```ts
 * import { DerivedKey } from "@alknet/vault";
 * const k = new DerivedKey("ed25519", "m/0'", new Uint8Array(32).fill(1), new Uint8Array(32));
 * console.log(String(k), JSON.stringify(k), k.publicKey.length); // [REDACTED] "[REDACTED]" 32
 * k.wipe();
 * ```
 */
export class DerivedKey extends Redacted {
  /** The curve. */
  readonly curve: Curve;
  /** The canonical path (hardened indices written with `'`). */
  readonly path: string;
  #privateKey: Uint8Array;
  #chainCode: Uint8Array;
  // Shared between a key and its clones: the public key is not secret, and a
  // cached key's clones then compute it once.
  #pub: { value?: Uint8Array };
  #wiped = false;

  /**
   * Wraps key material; the key takes ownership of the arrays (it wipes them
   * in `wipe()`).
   */
  constructor(
    curve: Curve,
    path: string,
    privateKey: Uint8Array,
    chainCode: Uint8Array,
    publicKey?: Uint8Array,
  ) {
    super();
    if (privateKey.length !== 32) throw new RangeError("a private key is 32 bytes");
    this.curve = curve;
    this.path = path;
    this.#privateKey = privateKey;
    this.#chainCode = chainCode;
    this.#pub = { value: publicKey };
  }

  #check(): void {
    if (this.#wiped) throw new VaultError("key-wiped", `the key for ${this.path} was wiped`);
  }

  /** The 32-byte private key (the Ed25519 seed for `ed25519`). Do not keep copies. */
  get privateKey(): Uint8Array {
    this.#check();
    return this.#privateKey;
  }

  /** The 32-byte chain code. */
  get chainCode(): Uint8Array {
    this.#check();
    return this.#chainCode;
  }

  /** The public key: 32 raw bytes (Ed25519) or 33 compressed bytes (secp256k1). */
  get publicKey(): Uint8Array {
    if (this.#pub.value === undefined) {
      this.#check();
      this.#pub.value = ed25519.getPublicKey(this.#privateKey);
    }
    return this.#pub.value.slice();
  }

  /** Whether `wipe()` was called. */
  get wiped(): boolean {
    return this.#wiped;
  }

  /**
   * An independent copy (own arrays), so the copy can be wiped separately.
   *
   * @example
   * ```ts
   * import { DerivedKey } from "@alknet/vault";
   * const a = new DerivedKey("ed25519", "m/0'", new Uint8Array(32).fill(1), new Uint8Array(32));
   * const b = a.clone();
   * a.wipe();
   * console.log(b.privateKey[0]); // 1
   * ```
   */
  clone(): DerivedKey {
    this.#check();
    const copy = new DerivedKey(
      this.curve,
      this.path,
      this.#privateKey.slice(),
      this.#chainCode.slice(),
    );
    copy.#pub = this.#pub;
    return copy;
  }

  /** Zero-fills the private key and chain code. Idempotent. */
  wipe(): void {
    wipe(this.#privateKey, this.#chainCode);
    this.#wiped = true;
  }
}
