/**
 * Signed tokens for carriers without SSH (WebSocket, `alknet/tcp` headers,
 * the call protocol), as docs/reference/wire-formats.md describes:
 * `base64url_nopad(keyId[32] || ts[8] || sig[64])` where keyId is SHA-256 of
 * the raw 32-byte Ed25519 public key, ts the Unix time in seconds as a
 * big-endian uint64 and sig the Ed25519 signature over `keyId || ts`.
 * Tokens are accepted within ±{@link TOKEN_WINDOW_SECONDS} of now.
 *
 * @module
 */

import { CoreError } from "../util/errors.ts";
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { timingSafeEqual } from "./ct.ts";
import { fromBase64Url, toBase64Url, toHex } from "../util/bytes.ts";

/**
 * How far (seconds) a token's timestamp may be from now, either way.
 *
 * @example
 * ```ts
 * import { TOKEN_WINDOW_SECONDS } from "@alknet/core/auth";
 * console.log(TOKEN_WINDOW_SECONDS); // 300
 * ```
 */
export const TOKEN_WINDOW_SECONDS = 300;

const KEY_ID_LEN = 32;
const TS_LEN = 8;
const SIG_LEN = 64;
const TOKEN_LEN = KEY_ID_LEN + TS_LEN + SIG_LEN;

/**
 * Tokens whose signature verified. A token names its key by hash (checked
 * on every use), so a verified signature stays verified; a client reuses
 * its token for a minute, and Ed25519 verification in JavaScript costs a
 * millisecond or more per new connection. Oldest first, bounded.
 */
const verifiedSignatures = new Set<string>();
const VERIFIED_CACHE_SIZE = 4096;

function rememberVerified(token: string): void {
  if (verifiedSignatures.size >= VERIFIED_CACHE_SIZE) {
    verifiedSignatures.delete(verifiedSignatures.values().next().value!);
  }
  verifiedSignatures.add(token);
}

/**
 * Why a token was refused.
 *
 * @example
 * ```ts
 * import { TokenError, type TokenErrorCode, verifyToken } from "@alknet/core/auth";
 * let reason: TokenErrorCode | undefined;
 * try {
 *   verifyToken("nope", () => null);
 * } catch (e) {
 *   if (e instanceof TokenError) reason = e.reason;
 * }
 * console.log(reason); // "malformed"
 * ```
 */
export type TokenErrorCode = "malformed" | "expired" | "unknown-key" | "bad-signature";

/**
 * Base class of token failures; `code` says which one.
 *
 * @example
 * ```ts
 * import { TokenError, verifyToken } from "@alknet/core/auth";
 * try {
 *   verifyToken("nope", () => null);
 * } catch (e) {
 *   console.log(e instanceof TokenError && e.code); // malformed
 * }
 * ```
 */
export class TokenError extends CoreError {
  /** Which check failed (the error's `code` is `token`). */
  readonly reason: TokenErrorCode;
  /** Creates the error. */
  constructor(reason: TokenErrorCode, message: string) {
    super("token", message);
    this.name = "TokenError";
    this.reason = reason;
  }
}

/**
 * The token is not base64url of exactly 104 bytes.
 *
 * @example
 * ```ts
 * import { TokenMalformedError } from "@alknet/core/auth";
 * console.log(new TokenMalformedError("too short").code); // malformed
 * ```
 */
export class TokenMalformedError extends TokenError {
  /** Creates the error; `why` says what is wrong with the text. */
  constructor(why: string) {
    super("malformed", `malformed token: ${why}`);
    this.name = "TokenMalformedError";
  }
}

/**
 * The token's timestamp is outside the accepted window.
 *
 * @example
 * ```ts
 * import { TokenExpiredError } from "@alknet/core/auth";
 * console.log(new TokenExpiredError(0, 1000).skewSeconds); // -1000
 * ```
 */
export class TokenExpiredError extends TokenError {
  /** Token time minus now, in seconds (negative: too old). */
  readonly skewSeconds: number;
  /** Creates the error for a token minted at `timestamp`, checked at `now`. */
  constructor(timestamp: number, now: number) {
    const skew = timestamp - now;
    super(
      "expired",
      `token timestamp is ${Math.abs(skew)} s ${
        skew < 0 ? "old" : "in the future"
      } (window ±${TOKEN_WINDOW_SECONDS} s)`,
    );
    this.name = "TokenExpiredError";
    this.skewSeconds = skew;
  }
}

/**
 * No key with the token's key id is known.
 *
 * @example
 * ```ts
 * import { TokenUnknownKeyError } from "@alknet/core/auth";
 * console.log(new TokenUnknownKeyError("ab").keyId); // ab
 * ```
 */
export class TokenUnknownKeyError extends TokenError {
  /** The key id (hex). */
  readonly keyId: string;
  /** Creates the error for `keyIdHex`. */
  constructor(keyIdHex: string) {
    super("unknown-key", `token key id ${keyIdHex} is not an authorized key`);
    this.name = "TokenUnknownKeyError";
    this.keyId = keyIdHex;
  }
}

/**
 * The signature does not verify (or the key does not hash to the key id).
 *
 * @example
 * ```ts
 * import { TokenSignatureError } from "@alknet/core/auth";
 * console.log(new TokenSignatureError().code); // bad-signature
 * ```
 */
export class TokenSignatureError extends TokenError {
  /** Creates the error. */
  constructor() {
    super("bad-signature", "token signature does not verify");
    this.name = "TokenSignatureError";
  }
}

function b64urlDecode(s: string): Uint8Array | null {
  const out = fromBase64Url(s);
  // Reject non-canonical encodings (stray bits in the last character).
  return out && toBase64Url(out) === s ? out : null;
}

function nowSecondsDefault(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * The token key id of a raw 32-byte Ed25519 public key: SHA-256 over it.
 *
 * @example
 * ```ts
 * import { tokenKeyId } from "@alknet/core/auth";
 * console.log(tokenKeyId(new Uint8Array(32)).length); // 32
 * ```
 */
export function tokenKeyId(publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== 32) {
    throw new CoreError("key", `Ed25519 public key must be 32 bytes, got ${publicKey.length}`);
  }
  return sha256(publicKey);
}

/**
 * Mints a token with a 32-byte Ed25519 private key seed.
 *
 * @param privateSeed32 the Ed25519 seed (the private key); never logged
 * @param nowSeconds Unix time to stamp (default: now)
 * @example
 * ```ts
 * import { mintToken } from "@alknet/core/auth";
 * const token = mintToken(crypto.getRandomValues(new Uint8Array(32)));
 * console.log(token.length); // 139
 * ```
 */
export function mintToken(privateSeed32: Uint8Array, nowSeconds?: number): string {
  if (!(privateSeed32 instanceof Uint8Array) || privateSeed32.length !== 32) {
    throw new CoreError("key", "Ed25519 private seed must be 32 bytes");
  }
  const ts = nowSeconds ?? nowSecondsDefault();
  if (!Number.isSafeInteger(ts) || ts < 0) throw new CoreError("token", `bad timestamp ${ts}`);
  const msg = new Uint8Array(KEY_ID_LEN + TS_LEN);
  msg.set(tokenKeyId(ed25519.getPublicKey(privateSeed32)), 0);
  new DataView(msg.buffer).setBigUint64(KEY_ID_LEN, BigInt(ts));
  const sig = ed25519.sign(msg, privateSeed32);
  const out = new Uint8Array(TOKEN_LEN);
  out.set(msg, 0);
  out.set(sig, msg.length);
  return toBase64Url(out);
}

/**
 * Finds the raw 32-byte Ed25519 public key for a token key id, or null.
 * Key ids are public; they identify, they do not authenticate.
 *
 * @example
 * ```ts
 * import { keyLookup, type TokenKeyLookup } from "@alknet/core/auth";
 * const lookup: TokenKeyLookup = keyLookup([]); // no keys: every token is refused
 * console.log(lookup(new Uint8Array(32))); // null
 * ```
 */
export type TokenKeyLookup = (keyId: Uint8Array) => Uint8Array | null | undefined;

/**
 * A token that verified.
 *
 * @example
 * ```ts
 * import type { VerifiedToken } from "@alknet/core/auth";
 * const v: VerifiedToken = { keyId: "00", publicKey: new Uint8Array(32), timestamp: 0 };
 * ```
 */
export interface VerifiedToken {
  /** The key id, hex. */
  keyId: string;
  /** The signer's raw Ed25519 public key. */
  publicKey: Uint8Array;
  /** The token's Unix timestamp in seconds. */
  timestamp: number;
}

/**
 * Verifies a token: shape, time window (±300 s), key lookup, key-id binding
 * and signature.
 *
 * @throws {TokenMalformedError} when the text is not a well-formed token
 * @throws {TokenExpiredError} when the timestamp is outside ±300 s of now
 * @throws {TokenUnknownKeyError} when `lookupKeyById` knows no such key
 * @throws {TokenSignatureError} when the signature does not verify
 * @example
 * ```ts
 * import { ed25519 } from "@noble/curves/ed25519.js";
 * import { mintToken, verifyToken } from "@alknet/core/auth";
 * const seed = crypto.getRandomValues(new Uint8Array(32));
 * const pub = ed25519.getPublicKey(seed);
 * const v = verifyToken(mintToken(seed, 1000), () => pub, 1200);
 * console.log(v.timestamp); // 1000
 * ```
 */
export function verifyToken(
  token: string,
  lookupKeyById: TokenKeyLookup,
  nowSeconds?: number,
): VerifiedToken {
  if (typeof token !== "string") throw new TokenMalformedError("not a string");
  if (token.length !== Math.ceil(TOKEN_LEN * 4 / 3)) {
    throw new TokenMalformedError(
      `expected ${Math.ceil(TOKEN_LEN * 4 / 3)} characters, got ${token.length}`,
    );
  }
  const raw = b64urlDecode(token);
  if (!raw || raw.length !== TOKEN_LEN) throw new TokenMalformedError("not unpadded base64url");
  const keyId = raw.slice(0, KEY_ID_LEN);
  const tsBig = new DataView(raw.buffer, raw.byteOffset).getBigUint64(KEY_ID_LEN);
  if (tsBig > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new TokenMalformedError("timestamp out of range");
  }
  const ts = Number(tsBig);
  const now = nowSeconds ?? nowSecondsDefault();
  if (Math.abs(ts - now) > TOKEN_WINDOW_SECONDS) throw new TokenExpiredError(ts, now);
  const pub = lookupKeyById(keyId);
  if (!pub) throw new TokenUnknownKeyError(toHex(keyId));
  if (pub.length !== 32 || !timingSafeEqual(sha256(pub), keyId)) throw new TokenSignatureError();
  let ok = verifiedSignatures.has(token);
  if (!ok) {
    try {
      ok = ed25519.verify(
        raw.subarray(KEY_ID_LEN + TS_LEN),
        raw.subarray(0, KEY_ID_LEN + TS_LEN),
        pub,
        {
          zip215: false,
        },
      );
    } catch {
      ok = false;
    }
    if (ok) rememberVerified(token);
  }
  if (!ok) throw new TokenSignatureError();
  return { keyId: toHex(keyId), publicKey: pub.slice(), timestamp: ts };
}

/**
 * Builds a {@link TokenKeyLookup} over a list of raw Ed25519 public keys;
 * key ids are compared in constant time.
 *
 * @example
 * ```ts
 * import { ed25519 } from "@noble/curves/ed25519.js";
 * import { keyLookup, mintToken, verifyToken } from "@alknet/core/auth";
 * const seed = crypto.getRandomValues(new Uint8Array(32));
 * const lookup = keyLookup([ed25519.getPublicKey(seed)]);
 * console.log(verifyToken(mintToken(seed), lookup).keyId.length); // 64
 * ```
 */
export function keyLookup(publicKeys: readonly Uint8Array[]): TokenKeyLookup {
  const table = publicKeys.map((pk) => ({ id: tokenKeyId(pk), pk: pk.slice() }));
  return (keyId) => {
    let found: Uint8Array | null = null;
    for (const e of table) if (timingSafeEqual(e.id, keyId) && !found) found = e.pk;
    return found;
  };
}
