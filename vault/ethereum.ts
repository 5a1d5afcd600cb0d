/**
 * Ethereum addresses (EIP-55 checksummed) of secp256k1 public keys.
 *
 * @module
 */

import { keccak_256 } from "@noble/hashes/sha3.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { toHex } from "./bytes.ts";

/**
 * Applies the EIP-55 mixed-case checksum to a 40-hex-digit address (with or
 * without `0x`).
 *
 * @example
 * ```ts
 * import { toChecksumAddress } from "@alknet/vault";
 * console.log(toChecksumAddress("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"));
 * // "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
 * ```
 */
export function toChecksumAddress(address: string): string {
  const hex = address.replace(/^0x/i, "").toLowerCase();
  if (!/^[0-9a-f]{40}$/.test(hex)) throw new RangeError("an address is 20 bytes of hex");
  const hash = toHex(keccak_256(new TextEncoder().encode(hex)));
  let out = "0x";
  for (let i = 0; i < 40; i++) {
    out += parseInt(hash[i], 16) >= 8 ? hex[i].toUpperCase() : hex[i];
  }
  return out;
}

/**
 * The EIP-55 address of a secp256k1 public key (33-byte compressed or
 * 65-byte uncompressed).
 *
 * @example
 * ```ts
 * import { ethereumAddress } from "@alknet/vault";
 * import { secp256k1 } from "@noble/curves/secp256k1.js";
 * const pub = secp256k1.getPublicKey(new Uint8Array(32).fill(1));
 * console.log(ethereumAddress(pub).length); // 42
 * ```
 */
export function ethereumAddress(publicKey: Uint8Array): string {
  const point = secp256k1.Point.fromBytes(publicKey);
  const uncompressed = point.toBytes(false);
  const hash = keccak_256(uncompressed.subarray(1));
  return toChecksumAddress(toHex(hash.subarray(12)));
}
