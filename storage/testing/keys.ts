/**
 * Test keys: Ed25519 key pairs as OpenSSH public key lines, and signed
 * tokens made with them (DESIGN 4.5), so tests need no `ssh-keygen`.
 *
 * @module
 */

import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";

/**
 * A test key pair.
 *
 * @example
 * ```ts
 * import { type TestKey, testKey } from "@alknet/storage/testing";
 * const key: TestKey = testKey("ci");
 * console.log(key.publicKey.length, key.line.endsWith(" ci")); // 32 true
 * ```
 */
export interface TestKey {
  /** The 32-byte private seed. */
  seed: Uint8Array;
  /** The raw 32-byte public key. */
  publicKey: Uint8Array;
  /** `ssh-ed25519 AAAA... comment`. */
  line: string;
}

function sshString(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

/**
 * A fresh Ed25519 key pair with its OpenSSH public key line.
 *
 * @example
 * ```ts
 * import { testKey } from "@alknet/storage/testing";
 * console.log(testKey("me").line.startsWith("ssh-ed25519 ")); // true
 * ```
 */
export function testKey(comment = "test"): TestKey {
  const seed = crypto.getRandomValues(new Uint8Array(32));
  const publicKey = ed25519.getPublicKey(seed);
  const type = sshString(new TextEncoder().encode("ssh-ed25519"));
  const blob = new Uint8Array([...type, ...sshString(publicKey)]);
  const b64 = btoa(String.fromCharCode(...blob));
  return { seed, publicKey, line: `ssh-ed25519 ${b64} ${comment}` };
}

/**
 * A signed token for `key`, stamped `nowSeconds` (default now).
 *
 * @example
 * ```ts
 * import { signToken, testKey } from "@alknet/storage/testing";
 * console.log(signToken(testKey()).length); // 139
 * ```
 */
export function signToken(
  key: TestKey,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): string {
  const msg = new Uint8Array(40);
  msg.set(sha256(key.publicKey), 0);
  new DataView(msg.buffer).setBigUint64(32, BigInt(nowSeconds));
  const token = new Uint8Array([...msg, ...ed25519.sign(msg, key.seed)]);
  return btoa(String.fromCharCode(...token)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}
