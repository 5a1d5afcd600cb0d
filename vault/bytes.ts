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
 * import { wipe } from "./bytes.ts";
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
 * import { toHex } from "./bytes.ts";
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
 * import { fromHex } from "./bytes.ts";
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

const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Standard base64 with padding.
 *
 * @example
 * ```ts
 * import { toBase64 } from "./bytes.ts";
 * console.log(toBase64(new Uint8Array([1, 2, 3, 4]))); // "AQIDBA=="
 * ```
 */
export function toBase64(bytes: Uint8Array): string {
  let bin = "";
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK) {
    bin += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(bin);
}

/**
 * Strictly decodes standard padded base64: no whitespace, no URL alphabet,
 * no missing padding, no non-zero trailing bits. Returns `undefined` when the
 * text is not canonical base64.
 *
 * @example
 * ```ts
 * import { fromBase64Strict } from "./bytes.ts";
 * console.log(fromBase64Strict("AQIDBA==")); // Uint8Array(4) [ 1, 2, 3, 4 ]
 * console.log(fromBase64Strict("AQIDBA")); // undefined
 * ```
 */
export function fromBase64Strict(text: string): Uint8Array | undefined {
  if (!B64_RE.test(text)) return undefined;
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  // Reject non-canonical encodings (stray bits in the last character).
  if (toBase64(out) !== text) return undefined;
  return out;
}

/**
 * Compares two byte arrays in time that depends only on their lengths.
 *
 * @example
 * ```ts
 * import { equalBytes } from "./bytes.ts";
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
 * import { copyBytes } from "./bytes.ts";
 * console.log(copyBytes(new Uint8Array([7])).length); // 1
 * ```
 */
export function copyBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  return out;
}
