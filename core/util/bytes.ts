/**
 * The one hex and base64 helper of `@alknet/core`: lowercase hex, standard
 * base64 (padded) and base64url (unpadded), all strict on input.
 *
 * @module
 */

/**
 * Lowercase hex of `bytes`.
 *
 * @example
 * ```ts
 * import { toHex } from "@alknet/core/transport";
 * console.log(toHex(new Uint8Array([0, 171, 255]))); // "00abff"
 * ```
 */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/**
 * Bytes of a hex string (either case, even length), or `null` when it is not hex.
 *
 * @example
 * ```ts
 * import { fromHex } from "@alknet/core/transport";
 * console.log(fromHex("00abFF")); // Uint8Array(3) [ 0, 171, 255 ]
 * console.log(fromHex("abc")); // null
 * ```
 */
export function fromHex(text: string): Uint8Array | null {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return null;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** `Uint8Array.fromBase64` and `toBase64` (TC39), where the runtime has them. */
interface NativeBase64 {
  fromBase64(text: string, options?: { alphabet?: "base64" | "base64url" }): Uint8Array;
}
interface NativeBase64Bytes extends Uint8Array {
  toBase64(options?: { alphabet?: "base64" | "base64url"; omitPadding?: boolean }): string;
}
// Built in: several times faster than atob/btoa with a string in between
// (every native-path header's token is decoded and re-encoded).
const native: NativeBase64 | undefined =
  typeof (Uint8Array as unknown as Partial<NativeBase64>).fromBase64 === "function" &&
    typeof (Uint8Array.prototype as Partial<NativeBase64Bytes>).toBase64 === "function"
    ? Uint8Array as unknown as NativeBase64
    : undefined;

/**
 * Standard base64 with `=` padding.
 *
 * @example
 * ```ts
 * import { toBase64 } from "@alknet/core/transport";
 * console.log(toBase64(new TextEncoder().encode("hi?"))); // "aGk/"
 * ```
 */
export function toBase64(bytes: Uint8Array): string {
  if (native) return (bytes as NativeBase64Bytes).toBase64();
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

/**
 * Bytes of standard base64 (padding optional, no whitespace), or `null`.
 *
 * @example
 * ```ts
 * import { fromBase64 } from "@alknet/core/transport";
 * console.log(new TextDecoder().decode(fromBase64("aGk/")!)); // "hi?"
 * console.log(fromBase64("a!")); // null
 * ```
 */
export function fromBase64(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  const bare = text.replace(/=+$/, "");
  if (bare.length % 4 === 1) return null;
  if (text.length !== bare.length && text.length % 4 !== 0) return null;
  try {
    if (native) return native.fromBase64(text);
    const bin = atob(bare + "=".repeat((4 - bare.length % 4) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/**
 * Base64url without padding (RFC 4648 section 5).
 *
 * @example
 * ```ts
 * import { toBase64Url } from "@alknet/core/transport";
 * console.log(toBase64Url(new TextEncoder().encode("hi?"))); // "aGk_"
 * ```
 */
export function toBase64Url(bytes: Uint8Array): string {
  if (native) {
    return (bytes as NativeBase64Bytes).toBase64({ alphabet: "base64url", omitPadding: true });
  }
  return toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Bytes of unpadded base64url, or `null` when the text is not exactly that.
 *
 * @example
 * ```ts
 * import { fromBase64Url } from "@alknet/core/transport";
 * console.log(fromBase64Url("aGk_")?.length); // 3
 * console.log(fromBase64Url("aGk/")); // null
 * ```
 */
export function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  if (native) {
    if (text.length % 4 === 1) return null;
    try {
      return native.fromBase64(text, { alphabet: "base64url" });
    } catch {
      return null;
    }
  }
  return fromBase64(text.replace(/-/g, "+").replace(/_/g, "/"));
}
