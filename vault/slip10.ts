/**
 * SLIP-0010 hierarchical derivation for Ed25519 (hardened children only),
 * written on HMAC-SHA512 from `@noble/hashes`.
 *
 * @module
 */

import { hmac } from "@noble/hashes/hmac.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { wipe } from "./bytes.ts";
import { HARDENED_OFFSET } from "./path.ts";

/**
 * A SLIP-0010 node: the 32-byte private key (the Ed25519 seed) and chain code.
 *
 * @example
 * ```ts
 * import { slip10Derive, type Slip10Node } from "@alknet/vault";
 * const node: Slip10Node = slip10Derive(new Uint8Array(64).fill(1), [0x8000004a, 0x80000000]);
 * console.log(node.key.length, node.chainCode.length); // 32 32
 * ```
 */
export interface Slip10Node {
  /** The 32-byte private key, usable as an RFC 8032 Ed25519 seed. */
  key: Uint8Array;
  /** The 32-byte chain code. */
  chainCode: Uint8Array;
}

const MASTER_KEY = new TextEncoder().encode("ed25519 seed");

/**
 * The SLIP-0010 Ed25519 master node of a 16–64 byte seed.
 *
 * @example
 * ```ts
 * import { slip10Master } from "@alknet/vault";
 * const node = slip10Master(new Uint8Array(16));
 * console.log(node.key.length, node.chainCode.length); // 32 32
 * ```
 */
export function slip10Master(seed: Uint8Array): Slip10Node {
  if (seed.length < 16 || seed.length > 64) throw new RangeError("seed must be 16 to 64 bytes");
  const i = hmac(sha512, MASTER_KEY, seed);
  const node = { key: i.slice(0, 32), chainCode: i.slice(32) };
  wipe(i);
  return node;
}

/**
 * The hardened child `index` (which must carry the 2^31 offset) of a node.
 * The parent is not modified.
 *
 * @example
 * ```ts
 * import { slip10Child, slip10Master } from "@alknet/vault";
 * const child = slip10Child(slip10Master(new Uint8Array(16)), 0x80000000);
 * console.log(child.key.length); // 32
 * ```
 */
export function slip10Child(parent: Slip10Node, index: number): Slip10Node {
  if (!Number.isInteger(index) || index < HARDENED_OFFSET || index > 0xffffffff) {
    throw new RangeError("SLIP-0010 Ed25519 derives hardened children only");
  }
  const data = new Uint8Array(37);
  data.set(parent.key, 1);
  new DataView(data.buffer).setUint32(33, index, false);
  const i = hmac(sha512, parent.chainCode, data);
  const node = { key: i.slice(0, 32), chainCode: i.slice(32) };
  wipe(i, data);
  return node;
}

/**
 * Derives the node at `indices` (all hardened) from a seed, wiping every
 * intermediate node. The caller owns the result.
 *
 * @example
 * ```ts
 * import { slip10Derive } from "@alknet/vault";
 * const node = slip10Derive(new Uint8Array(16), [0x80000000 + 74]);
 * console.log(node.key.length); // 32
 * ```
 */
export function slip10Derive(seed: Uint8Array, indices: readonly number[]): Slip10Node {
  let node = slip10Master(seed);
  for (const index of indices) {
    let next: Slip10Node;
    try {
      next = slip10Child(node, index);
    } finally {
      wipe(node.key, node.chainCode);
    }
    node = next;
  }
  return node;
}
