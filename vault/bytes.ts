/**
 * Byte helpers: hex, strict standard base64, wiping and constant-time compare.
 *
 * @module
 */

/**
 * Zero-fills every given array (a no-op for `undefined`).
 *
 * @example
 * ```ts
 * import { wipe } from "@alknet/vault";
 * const secret = new Uint8Array([1, 2, 3]);
 * wipe(secret);
 * console.log(secret); // Uint8Array(3) [ 0, 0, 0 ]
 * ```
 */
export function wipe(...arrays: (Uint8Array | undefined)[]): void {
  for (const a of arrays) a?.fill(0);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/**
 * Lower-case hex of a byte array.
 *
 * @example
 * ```ts
 * import { toHex } from "@alknet/vault";
 * console.log(toHex(new Uint8Array([0, 255]))); // "00ff"
 * ```
 */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += HEX[b];
  return out;
}

/**
 * Decodes hex (either case, even length); throws `RangeError` otherwise.
 *
 * @example
 * ```ts
 * import { fromHex } from "@alknet/vault";
 * console.log(fromHex("00ff")); // Uint8Array(2) [ 0, 255 ]
 * ```
 */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new RangeError("invalid hex string");
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

// Native base64 (TC39 Uint8Array.fromBase64 / toBase64), typed locally.
interface Base64Bytes {
  toBase64(): string;
}
interface Base64Ctor {
  fromBase64(text: string, options: { lastChunkHandling: "strict" }): Uint8Array;
}

/**
 * Standard base64 with padding.
 *
 * @example
 * ```ts
 * import { toBase64 } from "@alknet/vault";
 * console.log(toBase64(new Uint8Array([1, 2, 3, 4]))); // "AQIDBA=="
 * ```
 */
export function toBase64(bytes: Uint8Array): string {
  return (bytes as unknown as Base64Bytes).toBase64();
}

/**
 * Strictly decodes standard padded base64: no whitespace, no URL alphabet,
 * no missing padding, no non-zero trailing bits. Returns `undefined` when the
 * text is not canonical base64.
 *
 * @example
 * ```ts
 * import { fromBase64Strict } from "@alknet/vault";
 * console.log(fromBase64Strict("AQIDBA==")); // Uint8Array(4) [ 1, 2, 3, 4 ]
 * console.log(fromBase64Strict("AQIDBA")); // undefined
 * ```
 */
export function fromBase64Strict(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0) return undefined;
  let out: Uint8Array;
  try {
    // Native decoding rejects other alphabets, missing padding and stray bits…
    out = (Uint8Array as unknown as Base64Ctor).fromBase64(text, { lastChunkHandling: "strict" });
  } catch {
    return undefined;
  }
  // …but skips ASCII whitespace: any would make the text longer than canonical.
  if (text.length !== Math.ceil(out.length / 3) * 4) return undefined;
  return out;
}

/**
 * Compares two byte arrays in time that depends only on their lengths.
 *
 * @example
 * ```ts
 * import { equalBytes } from "@alknet/vault";
 * console.log(equalBytes(new Uint8Array([1]), new Uint8Array([1]))); // true
 * ```
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/**
 * Copies bytes into a fresh `Uint8Array` backed by its own `ArrayBuffer`
 * (WebCrypto wants `Uint8Array<ArrayBuffer>`).
 *
 * @example
 * ```ts
 * import { copyBytes } from "@alknet/vault";
 * console.log(copyBytes(new Uint8Array([7])).length); // 1
 * ```
 */
export function copyBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  return out;
}
