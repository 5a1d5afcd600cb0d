/**
 * OpenSSH public keys as a peer record needs them: the `SHA256:`
 * fingerprint, and for `ssh-ed25519` keys the raw key and its token key id.
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { StorageError } from "./errors.ts";

/**
 * A parsed OpenSSH public key line.
 *
 * @example
 * ```ts
 * import { type ParsedPublicKey, parsePublicKey } from "@alknet/storage";
 * const key: ParsedPublicKey = parsePublicKey("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
 * console.log(key.fingerprint); // "SHA256:kmYcvdi2GkPeWxB6XLjrZB8JHsy2Hm8luHMFp9GMvqk"
 * ```
 */
export interface ParsedPublicKey {
  /** The key type, e.g. `ssh-ed25519`. */
  type: string;
  /** `type base64` (the comment dropped). */
  publicKey: string;
  /** OpenSSH's fingerprint, `SHA256:<base64 without padding>`. */
  fingerprint: string;
  /** Hex SHA-256 of the raw 32-byte Ed25519 key (the signed-token key id); null for other types. */
  tokenKeyId: string | null;
  /** Whatever followed the key on the line. */
  comment: string;
}

const FINGERPRINT_RE = /^SHA256:[A-Za-z0-9+/]{43}$/;

/**
 * Whether `text` has the form of an OpenSSH SHA-256 fingerprint.
 *
 * @example
 * ```ts
 * import { isFingerprint } from "@alknet/storage";
 * console.log(isFingerprint("SHA256:" + "A".repeat(43)), isFingerprint("MD5:aa")); // true false
 * ```
 */
export function isFingerprint(text: string): boolean {
  return typeof text === "string" && FINGERPRINT_RE.test(text);
}

function base64Decode(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

function base64NoPad(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/=+$/, "");
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Reads one SSH wire `string` at `offset`: [length, next offset] or null. */
function readString(blob: Uint8Array, offset: number): [Uint8Array, number] | null {
  if (offset + 4 > blob.length) return null;
  const len = new DataView(blob.buffer, blob.byteOffset + offset, 4).getUint32(0);
  const end = offset + 4 + len;
  if (end > blob.length) return null;
  return [blob.subarray(offset + 4, end), end];
}

/**
 * The OpenSSH fingerprint of a public key blob (the base64-decoded middle
 * field of a `.pub` line).
 *
 * @example
 * ```ts
 * import { fingerprintOf } from "@alknet/storage";
 * console.log(fingerprintOf(new Uint8Array([0, 0, 0, 0])).startsWith("SHA256:")); // true
 * ```
 */
export function fingerprintOf(blob: Uint8Array): string {
  return `SHA256:${base64NoPad(sha256(blob))}`;
}

/**
 * Parses one OpenSSH public key line (`type base64 [comment]`, no options).
 * Throws `invalid-input` when it is not one.
 *
 * @example
 * ```ts
 * import { parsePublicKey } from "@alknet/storage";
 * const line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA me@laptop";
 * const key = parsePublicKey(line);
 * console.log(key.type, key.comment, key.tokenKeyId?.length); // "ssh-ed25519" "me@laptop" 64
 * ```
 */
export function parsePublicKey(line: string): ParsedPublicKey {
  const fields = String(line ?? "").trim().split(/\s+/);
  const [type, b64] = fields;
  const bad = (why: string) =>
    new StorageError("invalid-input", `not an OpenSSH public key line: ${why}`);
  if (!type || !b64) throw bad("expected 'type base64 [comment]'");
  const blob = base64Decode(b64);
  if (!blob) throw bad("the key is not base64");
  const first = readString(blob, 0);
  if (!first) throw bad("the key blob is truncated");
  const inner = new TextDecoder().decode(first[0]);
  if (inner !== type) throw bad(`the line says ${type} but the key is ${inner}`);
  let tokenKeyId: string | null = null;
  if (type === "ssh-ed25519") {
    const raw = readString(blob, first[1]);
    if (!raw || raw[0].length !== 32 || raw[1] !== blob.length) {
      throw bad("an ssh-ed25519 key must hold exactly 32 bytes");
    }
    tokenKeyId = toHex(sha256(raw[0]));
  }
  return {
    type,
    publicKey: `${type} ${b64}`,
    fingerprint: fingerprintOf(blob),
    tokenKeyId,
    comment: fields.slice(2).join(" "),
  };
}

/**
 * The raw 32-byte Ed25519 key inside an `ssh-ed25519 base64` public key, or
 * null for other key types.
 *
 * @example
 * ```ts
 * import { ed25519RawKey } from "@alknet/storage";
 * console.log(ed25519RawKey("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")?.length); // 32
 * ```
 */
export function ed25519RawKey(publicKey: string): Uint8Array | null {
  const [type, b64] = publicKey.trim().split(/\s+/);
  if (type !== "ssh-ed25519" || !b64) return null;
  const blob = base64Decode(b64);
  if (!blob) return null;
  const first = readString(blob, 0);
  const raw = first && readString(blob, first[1]);
  return raw && raw[0].length === 32 ? raw[0].slice() : null;
}
