/**
 * The derivation paths alknet uses (coin type 74').
 *
 * @module
 */

import { UnsupportedKeyVersion } from "./errors.ts";

/**
 * The node identity key (Ed25519): `m/74'/0'/0'/0'`.
 *
 * @example
 * ```ts
 * import { IDENTITY_PATH } from "@alknet/vault";
 * console.log(IDENTITY_PATH); // "m/74'/0'/0'/0'"
 * ```
 */
export const IDENTITY_PATH = "m/74'/0'/0'/0'";

/**
 * The SSH host key (Ed25519): `m/74'/0'/1'/0'`.
 *
 * @example
 * ```ts
 * import { SSH_HOST_PATH } from "@alknet/vault";
 * console.log(SSH_HOST_PATH); // "m/74'/0'/1'/0'"
 * ```
 */
export const SSH_HOST_PATH = "m/74'/0'/1'/0'";

/**
 * The Ethereum account key (secp256k1): `m/44'/60'/0'/0/0`.
 *
 * @example
 * ```ts
 * import { ETHEREUM_PATH } from "@alknet/vault";
 * console.log(ETHEREUM_PATH); // "m/44'/60'/0'/0/0"
 * ```
 */
export const ETHEREUM_PATH = "m/44'/60'/0'/0/0";

/**
 * The key version new ciphertexts are sealed with.
 *
 * @example
 * ```ts
 * import { CURRENT_KEY_VERSION } from "@alknet/vault";
 * console.log(CURRENT_KEY_VERSION); // 2
 * ```
 */
export const CURRENT_KEY_VERSION = 2;

/**
 * The lowest key version (versions 0 and 1 belonged to an older scheme).
 *
 * @example
 * ```ts
 * import { MIN_KEY_VERSION } from "@alknet/vault";
 * console.log(MIN_KEY_VERSION); // 2
 * ```
 */
export const MIN_KEY_VERSION = 2;

/**
 * The highest key version (its index, v − 2, must stay below 2^31).
 *
 * @example
 * ```ts
 * import { MAX_KEY_VERSION } from "@alknet/vault";
 * console.log(MAX_KEY_VERSION); // 2147483649
 * ```
 */
export const MAX_KEY_VERSION: number = 0x7fffffff + 2;

/**
 * Whether `v` is a usable key version (an integer from 2 to 2^31 + 1).
 *
 * @example
 * ```ts
 * import { isKeyVersion } from "@alknet/vault";
 * console.log(isKeyVersion(2), isKeyVersion(1)); // true false
 * ```
 */
export function isKeyVersion(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= MIN_KEY_VERSION &&
    v <= MAX_KEY_VERSION;
}

/**
 * The path of device `n`'s key: `m/74'/0'/0'/n'` (device 0 is the identity).
 *
 * @example
 * ```ts
 * import { devicePath } from "@alknet/vault";
 * console.log(devicePath(3)); // "m/74'/0'/0'/3'"
 * ```
 */
export function devicePath(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) {
    throw new RangeError(`device index must be an integer from 0 to 2^31-1, not ${n}`);
  }
  return `m/74'/0'/0'/${n}'`;
}

/**
 * The path of the AES-256-GCM key for version `v` (v ≥ 2):
 * `m/74'/2'/0'/(v-2)'`. Throws `UnsupportedKeyVersion` otherwise.
 *
 * @example
 * ```ts
 * import { encryptionKeyPath } from "@alknet/vault";
 * console.log(encryptionKeyPath(2)); // "m/74'/2'/0'/0'"
 * ```
 */
export function encryptionKeyPath(v: number): string {
  if (!isKeyVersion(v)) throw new UnsupportedKeyVersion(v);
  return `m/74'/2'/0'/${v - 2}'`;
}
