/**
 * BIP-32 secp256k1 derivation through `@scure/bip32`.
 *
 * @module
 */

import { HDKey } from "@scure/bip32";

/**
 * A BIP-32 secp256k1 node.
 *
 * @example
 * ```ts
 * import { bip32Derive, type Bip32Node } from "@alknet/vault";
 * const node: Bip32Node = bip32Derive(new Uint8Array(64).fill(1), [0x8000002c, 0x8000003c]);
 * console.log(node.privateKey.length, node.publicKey.length); // 32 33
 * ```
 */
export interface Bip32Node {
  /** The 32-byte private key. */
  privateKey: Uint8Array;
  /** The 33-byte compressed public key. */
  publicKey: Uint8Array;
  /** The 32-byte chain code. */
  chainCode: Uint8Array;
}

/**
 * Derives the secp256k1 node at `indices` (hardened ones with the 2^31
 * offset) from a 16–64 byte seed; intermediate private data is wiped.
 *
 * @example
 * ```ts
 * import { bip32Derive } from "@alknet/vault";
 * const node = bip32Derive(new Uint8Array(16), [0x80000000 + 44, 0]);
 * console.log(node.publicKey.length); // 33
 * ```
 */
export function bip32Derive(seed: Uint8Array, indices: readonly number[]): Bip32Node {
  if (seed.length < 16 || seed.length > 64) throw new RangeError("seed must be 16 to 64 bytes");
  let node = HDKey.fromMasterSeed(seed);
  for (const index of indices) {
    let next: HDKey;
    try {
      next = node.deriveChild(index);
    } finally {
      node.wipePrivateData();
    }
    node = next;
  }
  const out = {
    privateKey: Uint8Array.from(node.privateKey!),
    publicKey: Uint8Array.from(node.publicKey!),
    chainCode: Uint8Array.from(node.chainCode!),
  };
  node.wipePrivateData();
  return out;
}
