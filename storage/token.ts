/**
 * Verifies alknet's signed tokens (DESIGN 4.5) against keys in the peer
 * index: `base64url_nopad(keyId[32] || ts[8] || sig[64])`, keyId the SHA-256
 * of the raw Ed25519 key, sig the Ed25519 signature over `keyId || ts`,
 * accepted within ±300 s.
 *
 * @module
 */

import { ed25519 } from "@noble/curves/ed25519.js";

/**
 * How far (seconds) a token's timestamp may be from now, either way.
 *
 * @example
 * ```ts
 * import { TOKEN_WINDOW_SECONDS } from "@alknet/storage";
 * console.log(TOKEN_WINDOW_SECONDS); // 300
 * ```
 */
export const TOKEN_WINDOW_SECONDS = 300;

const TOKEN_BYTES = 32 + 8 + 64;

function b64urlDecode(s: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]+$/.test(s) || s.length % 4 === 1) return null;
  const t = s.replace(/-/g, "+").replace(/_/g, "/");
  try {
    return Uint8Array.from(atob(t + "=".repeat((4 - t.length % 4) % 4)), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The hex key id of a token, or null when it does not have a token's form.
 *
 * @example
 * ```ts
 * import { tokenKeyIdOf } from "@alknet/storage";
 * console.log(tokenKeyIdOf("not a token")); // null
 * ```
 */
export function tokenKeyIdOf(token: string): string | null {
  if (typeof token !== "string" || token.length !== 139) return null;
  const bytes = b64urlDecode(token);
  return bytes && bytes.length === TOKEN_BYTES ? toHex(bytes.subarray(0, 32)) : null;
}

/**
 * Checks a signed token: its form, its time window, and its signature by
 * the key `lookup` returns for its key id. Returns the hex key id when the
 * token is good, null otherwise. Never throws.
 *
 * @param token the token text
 * @param lookup the raw 32-byte Ed25519 key for a hex key id, or null
 * @param nowSeconds Unix time to check the window against (default: now)
 * @example
 * ```ts
 * import { verifySignedToken } from "@alknet/storage";
 * console.log(verifySignedToken("x".repeat(139), () => null)); // null
 * ```
 */
export function verifySignedToken(
  token: string,
  lookup: (keyIdHex: string) => Uint8Array | null,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): string | null {
  try {
    if (typeof token !== "string" || token.length !== 139) return null;
    const bytes = b64urlDecode(token);
    if (!bytes || bytes.length !== TOKEN_BYTES) return null;
    const keyId = toHex(bytes.subarray(0, 32));
    const ts = Number(new DataView(bytes.buffer, bytes.byteOffset + 32, 8).getBigUint64(0));
    if (Math.abs(ts - nowSeconds) > TOKEN_WINDOW_SECONDS) return null;
    const key = lookup(keyId);
    if (!key || key.length !== 32) return null;
    return ed25519.verify(bytes.subarray(40), bytes.subarray(0, 40), key) ? keyId : null;
  } catch {
    return null;
  }
}
