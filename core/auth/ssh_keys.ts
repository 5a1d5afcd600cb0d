/**
 * SSH keys in OpenSSH's formats: Ed25519 key generation, the
 * `openssh-key-v1` private key file, `.pub` lines and `SHA256:`
 * fingerprints, with clear errors for every kind of bad key file.
 *
 * @module
 */

import { CoreError } from "../util/errors.ts";
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
// @ts-types="@types/ssh2"
import ssh2 from "ssh2";
import { Buffer } from "node:buffer";
import { fsErrorReason } from "../util/fs_errors.ts";
import { SshReader, SshWireError, SshWriter } from "./ssh_wire.ts";
import { fromBase64, toBase64 } from "../util/bytes.ts";

/**
 * Why a key could not be used.
 *
 * @example
 * ```ts
 * import { KeyError, type KeyErrorKind, parsePrivateKey } from "@alknet/core/auth";
 * let kind: KeyErrorKind | undefined;
 * try {
 *   parsePrivateKey("not a key", "inline");
 * } catch (e) {
 *   if (e instanceof KeyError) kind = e.kind;
 * }
 * console.log(kind); // "malformed"
 * ```
 */
export type KeyErrorKind =
  | "not-found"
  | "unreadable"
  | "pem-format"
  | "encrypted"
  | "malformed"
  | "unsupported";

/**
 * A key file or key text that cannot be used; the message names the file and
 * says what to do.
 *
 * @example
 * ```ts
 * import { KeyError, readPrivateKeyFile } from "@alknet/core/auth";
 * try {
 *   await readPrivateKeyFile("/nonexistent/key");
 * } catch (e) {
 *   if (e instanceof KeyError) console.log(e.kind); // "not-found"
 * }
 * ```
 */
export class KeyError extends CoreError {
  /** What kind of problem this is. */
  readonly kind: KeyErrorKind;
  /** Creates the error; `source` names the file or the origin of the text. */
  constructor(kind: KeyErrorKind, source: string, detail: string) {
    super("key", `${source}: ${detail}`);
    this.name = "KeyError";
    this.kind = kind;
  }
}

const PRIVATE_BEGIN = "-----BEGIN OPENSSH PRIVATE KEY-----";
const PRIVATE_END = "-----END OPENSSH PRIVATE KEY-----";
const AUTH_MAGIC = new TextEncoder().encode("openssh-key-v1\0");
const ED25519 = "ssh-ed25519";

/**
 * A parsed private key, ready to sign with or to hand to the SSH stack.
 *
 * @example
 * ```ts
 * import { generateEd25519Key, parsePrivateKey, type PrivateKey } from "@alknet/core";
 * const key: PrivateKey = parsePrivateKey(generateEd25519Key("me").privateText, "generated");
 * console.log(key.type, key.fingerprint.startsWith("SHA256:")); // "ssh-ed25519" true
 * ```
 */
export interface PrivateKey {
  /** Key algorithm, e.g. `ssh-ed25519`. */
  type: string;
  /** Public key blob in SSH wire format. */
  publicBlob: Uint8Array;
  /** `SHA256:` fingerprint of the public key. */
  fingerprint: string;
  /** The 32-byte Ed25519 seed, for `ssh-ed25519` keys. */
  seed?: Uint8Array;
  /** The key in OpenSSH private key file format (what ssh2 takes). */
  pem: string;
  /** The comment stored with the key. */
  comment: string;
}

/**
 * A parsed public key: algorithm, SSH wire blob and comment.
 *
 * @example
 * ```ts
 * import { generateEd25519Key, parsePublicKeyLine, type PublicKey } from "@alknet/core/auth";
 * const pub: PublicKey = parsePublicKeyLine(generateEd25519Key("me").publicLine, "inline");
 * console.log(pub.type, pub.comment); // "ssh-ed25519" "me"
 * ```
 */
export interface PublicKey {
  /** Key algorithm, e.g. `ssh-ed25519`. */
  type: string;
  /** Public key blob in SSH wire format. */
  blob: Uint8Array;
  /** Trailing comment of the `.pub` line (may be empty). */
  comment: string;
}

/** Reads SSH wire data, turning truncation into a `KeyError` naming the source. */
function wire<T>(source: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof SshWireError) {
      throw new KeyError("malformed", source, `key data is corrupt (${e.message})`);
    }
    throw e;
  }
}

/**
 * Encodes a 32-byte Ed25519 public key as an SSH public key blob.
 *
 * @example
 * ```ts
 * import { ed25519PublicBlob } from "@alknet/core/auth";
 * console.log(ed25519PublicBlob(new Uint8Array(32)).length); // 51
 * ```
 */
export function ed25519PublicBlob(publicKey: Uint8Array): Uint8Array {
  return new SshWriter().writeString(ED25519).writeString(publicKey).toBytes();
}

/**
 * The OpenSSH `SHA256:` fingerprint of a public key blob (base64 without
 * padding of its SHA-256), as `ssh-keygen -lf` prints it.
 *
 * @example
 * ```ts
 * import { ed25519PublicBlob, fingerprint } from "@alknet/core/auth";
 * console.log(fingerprint(ed25519PublicBlob(new Uint8Array(32))).startsWith("SHA256:")); // true
 * ```
 */
export function fingerprint(publicBlob: Uint8Array): string {
  return "SHA256:" + toBase64(sha256(publicBlob)).replace(/=+$/, "");
}

/**
 * A `.pub` line (`ssh-ed25519 AAAA... comment`) for a public key blob.
 *
 * @example
 * ```ts
 * import { ed25519PublicBlob, publicKeyLine } from "@alknet/core/auth";
 * console.log(publicKeyLine(ed25519PublicBlob(new Uint8Array(32)), "me@host"));
 * ```
 */
export function publicKeyLine(publicBlob: Uint8Array, comment = ""): string {
  const type = wire("public key", () => new SshReader(publicBlob).readStringUtf8());
  const b64 = toBase64(publicBlob);
  return comment ? `${type} ${b64} ${comment}` : `${type} ${b64}`;
}

/**
 * Serializes an Ed25519 key (its 32-byte seed) as an unencrypted OpenSSH
 * private key file, the format `ssh-keygen` writes and `ssh` reads.
 *
 * @example
 * ```ts
 * import { encodeOpenSshPrivateKey } from "@alknet/core/auth";
 * const seed = crypto.getRandomValues(new Uint8Array(32));
 * const text = encodeOpenSshPrivateKey(seed, "host key");
 * console.log(text.split("\n")[0]); // -----BEGIN OPENSSH PRIVATE KEY-----
 * ```
 */
export function encodeOpenSshPrivateKey(seed: Uint8Array, comment = ""): string {
  if (seed.length !== 32) throw new CoreError("key", "an Ed25519 seed is 32 bytes");
  const pub = ed25519.getPublicKey(seed);
  const blob = ed25519PublicBlob(pub);
  const check = crypto.getRandomValues(new Uint8Array(4));
  const secret = new Uint8Array(64);
  secret.set(seed);
  secret.set(pub, 32);
  const body = new SshWriter()
    .writeBytes(check)
    .writeBytes(check)
    .writeString(ED25519)
    .writeString(pub)
    .writeString(secret)
    .writeString(comment);
  for (let i = 1; body.length % 8 !== 0; i++) body.writeByte(i);
  const priv = body.toBytes();
  const file = new SshWriter()
    .writeBytes(AUTH_MAGIC)
    .writeString("none")
    .writeString("none")
    .writeString(new Uint8Array(0))
    .writeUint32(1)
    .writeString(blob)
    .writeString(priv)
    .toBytes();
  secret.fill(0);
  priv.fill(0);
  const b64 = toBase64(file);
  file.fill(0);
  const lines = b64.match(/.{1,70}/g) ?? [];
  return `${PRIVATE_BEGIN}\n${lines.join("\n")}\n${PRIVATE_END}\n`;
}

/**
 * Parses the text of an OpenSSH private key file. Ed25519 keys are decoded
 * here; RSA and ECDSA keys in OpenSSH format go through ssh2. PEM keys and
 * passphrase-protected keys are refused with a `KeyError` that says how to
 * convert them.
 *
 * @example
 * ```ts
 * import { encodeOpenSshPrivateKey, parsePrivateKey } from "@alknet/core/auth";
 * const text = encodeOpenSshPrivateKey(new Uint8Array(32).fill(7));
 * console.log(parsePrivateKey(text, "example").type); // "ssh-ed25519"
 * ```
 */
export function parsePrivateKey(text: string, source: string): PrivateKey {
  const trimmed = text.trim();
  const pemType = /^-----BEGIN ([A-Z0-9 ]+)-----/.exec(trimmed)?.[1];
  if (pemType === undefined) {
    if (/^(ssh-|ecdsa-|sk-)/.test(trimmed)) {
      throw new KeyError(
        "unsupported",
        source,
        "this is a public key; a private key file is needed here",
      );
    }
    throw new KeyError("malformed", source, "not an OpenSSH private key file");
  }
  if (pemType !== "OPENSSH PRIVATE KEY") {
    if (/ENCRYPTED/.test(pemType) || /Proc-Type: 4,ENCRYPTED/.test(trimmed)) {
      throw new KeyError(
        "encrypted",
        source,
        `passphrase-protected PEM key (${pemType}); alknet needs an unencrypted OpenSSH key: ` +
          `ssh-keygen -p -N '' -f <file> removes the passphrase, or use 'alknet keygen'`,
      );
    }
    throw new KeyError(
      "pem-format",
      source,
      `PEM key (${pemType}) is not supported; alknet reads OpenSSH-format keys: convert with ` +
        `ssh-keygen -p -N '' -f <file> (which rewrites it in OpenSSH format) or create one with 'alknet keygen'`,
    );
  }
  const end = trimmed.indexOf(PRIVATE_END);
  if (end < 0) throw new KeyError("malformed", source, "missing END OPENSSH PRIVATE KEY line");
  const b64 = trimmed.slice(PRIVATE_BEGIN.length, end).replace(/\s+/g, "");
  const bytes = fromBase64(b64);
  if (!bytes) throw new KeyError("malformed", source, "key body is not valid base64");
  if (bytes.length < AUTH_MAGIC.length || !AUTH_MAGIC.every((b, i) => bytes[i] === b)) {
    throw new KeyError("malformed", source, "missing openssh-key-v1 header");
  }
  return wire(source, () => parseKeyFile(bytes, b64, source));
}

function parseKeyFile(bytes: Uint8Array, b64: string, source: string): PrivateKey {
  const r = new SshReader(bytes.subarray(AUTH_MAGIC.length));
  const cipher = r.readStringUtf8();
  const kdf = r.readStringUtf8();
  r.readString();
  if (cipher !== "none" || kdf !== "none") {
    throw new KeyError(
      "encrypted",
      source,
      `key is protected by a passphrase (${cipher}/${kdf}); alknet needs an unencrypted key: ` +
        `ssh-keygen -p -N '' -f <file> removes the passphrase`,
    );
  }
  const count = r.readUint32();
  if (count !== 1) {
    throw new KeyError("unsupported", source, `file holds ${count} keys, expected 1`);
  }
  const publicBlob = r.readString().slice();
  const priv = new SshReader(r.readString());
  const c1 = priv.readUint32();
  const c2 = priv.readUint32();
  if (c1 !== c2) throw new KeyError("malformed", source, "check bytes differ (corrupted key)");
  const type = priv.readStringUtf8();
  const normalizedPem = `${PRIVATE_BEGIN}\n${
    (b64.match(/.{1,70}/g) ?? []).join("\n")
  }\n${PRIVATE_END}\n`;
  if (type === ED25519) {
    const pub = priv.readString();
    const secret = priv.readString();
    const comment = priv.readStringUtf8();
    if (pub.length !== 32 || secret.length !== 64) {
      throw new KeyError("malformed", source, "Ed25519 key has the wrong length");
    }
    const seed = secret.slice(0, 32);
    const derived = ed25519.getPublicKey(seed);
    if (!derived.every((b, i) => b === pub[i])) {
      throw new KeyError("malformed", source, "Ed25519 public and private halves do not match");
    }
    return {
      type,
      publicBlob,
      fingerprint: fingerprint(publicBlob),
      seed,
      pem: normalizedPem,
      comment,
    };
  }
  let parsed: ReturnType<typeof ssh2.utils.parseKey>;
  try {
    parsed = ssh2.utils.parseKey(Buffer.from(normalizedPem));
  } catch {
    // ssh2 asserts (AssertionError) on some corrupt key bodies instead of returning an Error.
    throw new KeyError("malformed", source, `${type} key data is corrupt`);
  }
  if (parsed instanceof Error) {
    throw new KeyError("unsupported", source, `cannot use ${type} key: ${parsed.message}`);
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  return {
    type,
    publicBlob,
    fingerprint: fingerprint(publicBlob),
    pem: normalizedPem,
    comment: key.comment ?? "",
  };
}

/**
 * Parses one `.pub` line or `authorized_keys`-style key (`type base64 [comment]`).
 *
 * @example
 * ```ts
 * import { ed25519PublicBlob, parsePublicKeyLine, publicKeyLine } from "@alknet/core/auth";
 * const line = publicKeyLine(ed25519PublicBlob(new Uint8Array(32)), "me");
 * console.log(parsePublicKeyLine(line, "example").comment); // "me"
 * ```
 */
export function parsePublicKeyLine(line: string, source: string): PublicKey {
  const parts = line.trim().split(/\s+/);
  if (parts.length < 2) throw new KeyError("malformed", source, "not a public key line");
  const [type, b64, ...rest] = parts;
  const blob = fromBase64(b64);
  if (!blob || blob.length === 0) {
    throw new KeyError("malformed", source, "public key is not valid base64");
  }
  const inner = wire(source, () => new SshReader(blob).readStringUtf8());
  if (inner !== type) {
    throw new KeyError("malformed", source, `key type ${type} does not match its data (${inner})`);
  }
  return { type, blob, comment: rest.join(" ") };
}

async function readKeyText(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new KeyError("not-found", path, "no such key file");
    }
    throw new KeyError("unreadable", path, `cannot read the key file: ${fsErrorReason(e)}`);
  }
}

/**
 * Reads and parses an OpenSSH private key file.
 *
 * @example
 * ```ts
 * import { readPrivateKeyFile } from "@alknet/core/auth";
 * const key = await readPrivateKeyFile(Deno.env.get("HOME") + "/.ssh/id_ed25519").catch(() => null);
 * console.log(key?.fingerprint);
 * ```
 */
export async function readPrivateKeyFile(path: string): Promise<PrivateKey> {
  return parsePrivateKey(await readKeyText(path), path);
}

/**
 * The `SHA256:` fingerprint of a public (`.pub`) or private key file, the
 * same as `ssh-keygen -lf` prints.
 *
 * @example
 * ```ts
 * import { fingerprintOfKeyFile } from "@alknet/core/auth";
 * const fp = await fingerprintOfKeyFile("/etc/ssh/ssh_host_ed25519_key.pub").catch(() => null);
 * console.log(fp);
 * ```
 */
export async function fingerprintOfKeyFile(path: string): Promise<string> {
  const text = await readKeyText(path);
  if (text.trimStart().startsWith("-----BEGIN")) return parsePrivateKey(text, path).fingerprint;
  const line = text.split("\n").find((l) => l.trim() && !l.trim().startsWith("#"));
  if (!line) throw new KeyError("malformed", path, "file holds no key");
  return fingerprint(parsePublicKeyLine(line, path).blob);
}

/**
 * A fresh Ed25519 key pair as file contents: the OpenSSH private key text,
 * the `.pub` line and the fingerprint.
 *
 * @example
 * ```ts
 * import { generateEd25519Key } from "@alknet/core/auth";
 * const k = generateEd25519Key("me@laptop");
 * console.log(k.publicLine.startsWith("ssh-ed25519 "), k.fingerprint);
 * ```
 */
export function generateEd25519Key(
  comment = "",
): { privateText: string; publicLine: string; fingerprint: string } {
  const seed = ed25519.utils.randomSecretKey();
  const blob = ed25519PublicBlob(ed25519.getPublicKey(seed));
  const privateText = encodeOpenSshPrivateKey(seed, comment);
  seed.fill(0);
  return { privateText, publicLine: publicKeyLine(blob, comment), fingerprint: fingerprint(blob) };
}

/**
 * A usable private key from a 32-byte Ed25519 seed (e.g. one derived by the
 * vault). The seed is copied; the caller may wipe its own copy.
 *
 * @example
 * ```ts
 * import { privateKeyFromSeed } from "@alknet/core/auth";
 * const key = privateKeyFromSeed(new Uint8Array(32).fill(1), "derived");
 * console.log(key.type, key.fingerprint.startsWith("SHA256:")); // ssh-ed25519 true
 * ```
 */
export function privateKeyFromSeed(seed: Uint8Array, comment = ""): PrivateKey {
  return parsePrivateKey(encodeOpenSshPrivateKey(seed, comment), comment || "derived key");
}
