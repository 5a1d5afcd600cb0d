/**
 * SSH public keys: parse a wire-format key blob, compute its OpenSSH
 * `SHA256:` fingerprint and verify signatures made with it. Supported:
 * `ssh-ed25519`, `ecdsa-sha2-nistp256|384|521` and `ssh-rsa` (verified with
 * `rsa-sha2-256`/`rsa-sha2-512`; SHA-1 `ssh-rsa` signatures are refused, as
 * OpenSSH does by default).
 *
 * @module
 */

import { CoreError } from "../util/errors.ts";
import { fingerprint } from "./ssh_keys.ts";
import { ed25519 } from "@noble/curves/ed25519.js";
import { p256, p384, p521 } from "@noble/curves/nist.js";
import { createPublicKey, verify as nodeVerify } from "node:crypto";
import { SshReader, SshWireError } from "./ssh_wire.ts";
import { toBase64Url } from "../util/bytes.ts";

/**
 * Thrown when a public key blob cannot be decoded or names an unsupported type.
 *
 * @example
 * ```ts
 * import { parsePublicKeyBlob, PublicKeyError } from "@alknet/core/auth";
 * try {
 *   parsePublicKeyBlob(new Uint8Array(3));
 * } catch (e) {
 *   console.log(e instanceof PublicKeyError); // true
 * }
 * ```
 */
export class PublicKeyError extends CoreError {
  /** Creates the error; `message` says what is wrong with the key. */
  constructor(message: string) {
    super("public-key", message);
    this.name = "PublicKeyError";
  }
}

/**
 * A decoded SSH public key that can check signatures.
 *
 * @example
 * ```ts
 * import { parsePublicKeyBlob } from "@alknet/core/auth";
 * import { SshWriter } from "@alknet/core/auth";
 * const blob = new SshWriter().writeString("ssh-ed25519").writeString(new Uint8Array(32).fill(1)).toBytes();
 * const key = parsePublicKeyBlob(blob);
 * console.log(key.type, key.fingerprint.startsWith("SHA256:"));
 * ```
 */
export interface SshPublicKey {
  /** Key type name from the blob, e.g. `ssh-ed25519`. */
  readonly type: string;
  /** The whole key blob in wire format. */
  readonly blob: Uint8Array;
  /** OpenSSH fingerprint: `SHA256:` and unpadded base64 of SHA-256 over the blob. */
  readonly fingerprint: string;
  /**
   * Verifies `signature` over `data`. `signature` may be the raw signature
   * (ssh2 passes raw bytes for Ed25519 and RSA, DER for ECDSA) or a full SSH
   * signature blob (`string algo, string sig`). `hashAlgo` (`sha256`,
   * `sha512`) selects the RSA hash when the signature does not name it.
   * Never throws: malformed signatures are simply not valid.
   */
  verify(data: Uint8Array, signature: Uint8Array, hashAlgo?: string): boolean;
}

/**
 * Key types this module can parse and verify.
 *
 * @example
 * ```ts
 * import { SUPPORTED_KEY_TYPES } from "@alknet/core/auth";
 * console.log(
 *   SUPPORTED_KEY_TYPES.includes("ssh-ed25519"),
 *   SUPPORTED_KEY_TYPES.includes("ssh-dss"),
 * ); // true false
 * ```
 */
export const SUPPORTED_KEY_TYPES: readonly string[] = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "ssh-rsa",
];

/**
 * Reads the key type name at the start of a key blob without validating the
 * rest, or returns null when even that is unreadable.
 *
 * @example
 * ```ts
 * import { keyTypeOf } from "@alknet/core/auth";
 * console.log(keyTypeOf(new Uint8Array(2))); // null
 * ```
 */
export function keyTypeOf(blob: Uint8Array): string | null {
  try {
    return new SshReader(blob).readStringUtf8();
  } catch {
    return null;
  }
}

const ED25519 = "ssh-ed25519";
const ECDSA_CURVES = {
  "ecdsa-sha2-nistp256": { ident: "nistp256", curve: p256, size: 32 },
  "ecdsa-sha2-nistp384": { ident: "nistp384", curve: p384, size: 48 },
  "ecdsa-sha2-nistp521": { ident: "nistp521", curve: p521, size: 66 },
} as const;
type EcdsaType = keyof typeof ECDSA_CURVES;

function isEcdsa(t: string): t is EcdsaType {
  return Object.hasOwn(ECDSA_CURVES, t);
}

/** Splits an SSH signature blob `string algo, string sig` if `sig` is one. */
function unwrapSignature(sig: Uint8Array): { algo: string; raw: Uint8Array } | null {
  try {
    const r = new SshReader(sig);
    const algo = r.readStringUtf8();
    if (!/^[a-z0-9@.\-]{3,64}$/.test(algo)) return null;
    const raw = r.readString();
    if (!r.atEnd()) return null;
    return { algo, raw };
  } catch {
    return null;
  }
}

/**
 * Reads the public-key part that follows the type name in a plain key blob,
 * or in a certificate after its nonce. Returns the verifier and leaves the
 * reader after the key fields.
 */
export function readKeyBody(
  type: string,
  r: SshReader,
): (data: Uint8Array, signature: Uint8Array, hashAlgo?: string) => boolean {
  if (type === ED25519) {
    const pk = r.readString();
    if (pk.length !== 32) {
      throw new PublicKeyError(`ssh-ed25519 key must be 32 bytes, got ${pk.length}`);
    }
    const pub = pk.slice();
    return (data, signature) => {
      let raw = signature;
      const w = unwrapSignature(signature);
      if (w) {
        if (w.algo !== ED25519) return false;
        raw = w.raw;
      }
      if (raw.length !== 64) return false;
      try {
        return ed25519.verify(raw, data, pub, { zip215: false });
      } catch {
        return false;
      }
    };
  }
  if (isEcdsa(type)) {
    const { ident, curve, size } = ECDSA_CURVES[type];
    const id = new TextDecoder().decode(r.readString());
    if (id !== ident) throw new PublicKeyError(`${type} key names curve '${id}'`);
    const q = r.readString().slice();
    try {
      curve.Point.fromBytes(q).assertValidity();
    } catch {
      throw new PublicKeyError(`${type} key has an invalid curve point`);
    }
    return (data, signature) => {
      let raw = signature;
      const w = unwrapSignature(signature);
      if (w) {
        if (w.algo !== type) return false;
        raw = w.raw;
      }
      const opts = { lowS: false, prehash: true } as const;
      // SSH form: mpint r, mpint s.
      try {
        const sr = new SshReader(raw);
        const rr = sr.readMpint();
        const ss = sr.readMpint();
        if (sr.atEnd() && rr.length <= size && ss.length <= size) {
          const compact = new Uint8Array(size * 2);
          compact.set(rr, size - rr.length);
          compact.set(ss, size * 2 - ss.length);
          return curve.verify(compact, data, q, { ...opts, format: "compact" });
        }
      } catch {
        // not the SSH form; try DER below
      }
      try {
        return curve.verify(raw, data, q, { ...opts, format: "der" });
      } catch {
        return false;
      }
    };
  }
  if (type === "ssh-rsa") {
    const e = r.readMpint();
    const n = r.readMpint();
    if (n.length < 128) throw new PublicKeyError(`ssh-rsa key too short: ${n.length * 8} bits`);
    if (n.length > 2048) throw new PublicKeyError(`ssh-rsa key too long: ${n.length * 8} bits`);
    let keyObject: ReturnType<typeof createPublicKey>;
    try {
      keyObject = createPublicKey({
        key: { kty: "RSA", n: toBase64Url(n), e: toBase64Url(e) },
        format: "jwk",
      });
    } catch {
      throw new PublicKeyError("ssh-rsa key is not a valid RSA public key");
    }
    return (data, signature, hashAlgo) => {
      let raw = signature;
      let hash = hashAlgo;
      const w = unwrapSignature(signature);
      if (w) {
        raw = w.raw;
        hash = w.algo === "rsa-sha2-256" ? "sha256" : w.algo === "rsa-sha2-512" ? "sha512" : "sha1";
      }
      if (hash !== "sha256" && hash !== "sha512") return false;
      try {
        return nodeVerify(hash, data, keyObject, raw);
      } catch {
        return false;
      }
    };
  }
  throw new PublicKeyError(`unsupported key type '${type}'`);
}

/**
 * Decodes a plain (non-certificate) public key blob.
 *
 * @throws {PublicKeyError} when the blob is malformed or of an unsupported type.
 * @example
 * ```ts
 * import { parsePublicKeyBlob } from "@alknet/core/auth";
 * import { SshWriter } from "@alknet/core/auth";
 * const blob = new SshWriter().writeString("ssh-ed25519").writeString(new Uint8Array(32).fill(7)).toBytes();
 * console.log(parsePublicKeyBlob(blob).type); // ssh-ed25519
 * ```
 */
export function parsePublicKeyBlob(blob: Uint8Array): SshPublicKey {
  try {
    const r = new SshReader(blob);
    const type = r.readStringUtf8();
    const verify = readKeyBody(type, r);
    if (!r.atEnd()) throw new PublicKeyError(`${type} key blob has ${r.remaining} trailing bytes`);
    const copy = blob.slice();
    return { type, blob: copy, fingerprint: fingerprint(copy), verify };
  } catch (e) {
    if (e instanceof PublicKeyError) throw e;
    if (e instanceof SshWireError) throw new PublicKeyError(`malformed key blob: ${e.message}`);
    throw new PublicKeyError(`malformed key blob: ${String(e)}`);
  }
}

/**
 * Whether a client may sign with `algo` using a key of type `keyType`
 * (`rsa-sha2-256`/`rsa-sha2-512` go with `ssh-rsa` keys).
 *
 * @example
 * ```ts
 * import { algoMatchesKeyType } from "@alknet/core/auth";
 * console.log(algoMatchesKeyType("rsa-sha2-256", "ssh-rsa")); // true
 * ```
 */
export function algoMatchesKeyType(algo: string, keyType: string): boolean {
  if (algo === keyType) return true;
  return keyType === "ssh-rsa" && (algo === "rsa-sha2-256" || algo === "rsa-sha2-512");
}
