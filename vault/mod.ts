/**
 * `@alknet/vault` — one BIP39 mnemonic derives every key a node needs
 * (SLIP-0010 Ed25519, BIP-32 secp256k1) and seals secrets with AES-256-GCM.
 *
 * @example
 * ```ts
 * import { PACKAGE_NAME } from "@alknet/vault";
 * console.log(PACKAGE_NAME); // "@alknet/vault"
 * ```
 *
 * @module
 */

/** The package's name, exported so the module has a documented symbol. */
export const PACKAGE_NAME = "@alknet/vault";
