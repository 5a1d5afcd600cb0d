/**
 * Server host key verification for the SSH client: a pinned `SHA256:`
 * fingerprint, or an OpenSSH-format `known_hosts` file with trust on first
 * use. A changed key is never accepted.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createHmac } from "node:crypto";
import { dirname } from "node:path";
import { fingerprint, parsePublicKeyLine, publicKeyLine } from "../auth/ssh_keys.ts";
import { CoreError } from "../util/errors.ts";
import { wildcardMatch } from "../transport/addr.ts";

/**
 * Why a host key was not trusted: it differs from the pin (`mismatch`), from
 * the known-hosts file (`changed`), is marked `@revoked` (`revoked`), the
 * known-hosts file cannot be read (`unreadable`), or nothing was given to
 * verify it with (`unverifiable`).
 *
 * @example
 * ```ts
 * import { HostKeyError, type HostKeyFailure } from "@alknet/core/ssh";
 * const f: HostKeyFailure = new HostKeyError("changed", "host key for [h]:22 changed").failure;
 * console.log(f); // "changed"
 * ```
 */
export type HostKeyFailure = "mismatch" | "changed" | "revoked" | "unreadable" | "unverifiable";

/**
 * The server's host key is not the one expected. The message names the host,
 * both fingerprints and the file to edit; `failure` says why.
 *
 * @example
 * ```ts
 * import { HostKeyError } from "@alknet/core/ssh";
 * const e = new HostKeyError("changed", "host key for [h]:22 changed");
 * console.log(e.code, e.failure); // "host-key" "changed"
 * ```
 */
export class HostKeyError extends CoreError {
  /** Why the key was refused. */
  readonly failure: HostKeyFailure;
  /** Creates the error. */
  constructor(failure: HostKeyFailure, message: string) {
    super("host-key", message);
    this.name = "HostKeyError";
    this.failure = failure;
  }
}

/**
 * The `known_hosts` host field OpenSSH uses: `host` for port 22, else
 * `[host]:port`.
 *
 * @example
 * ```ts
 * import { knownHostsName } from "@alknet/core/ssh";
 * console.log(knownHostsName("::1", 2222)); // "[::1]:2222"
 * ```
 */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith("|1|")) {
    const [, , salt, hash] = field.split("|");
    if (!salt || !hash) return false;
    const mac = createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64");
    return mac === hash;
  }
  let matched = false;
  for (const pattern of field.split(",")) {
    const negated = pattern.startsWith("!");
    const p = negated ? pattern.slice(1) : pattern;
    if (wildcardMatch(p, name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/**
 * A host's keys as found in a known-hosts file.
 *
 * @example
 * ```ts
 * import type { KnownHostEntry } from "@alknet/core/ssh";
 * const e: KnownHostEntry = {
 *   type: "ssh-ed25519",
 *   blob: new Uint8Array(51),
 *   revoked: false,
 *   line: 1,
 * };
 * console.log(e.revoked ? "@revoked" : e.type); // "ssh-ed25519"
 * ```
 */
export interface KnownHostEntry {
  /** Key algorithm. */
  type: string;
  /** Public key blob. */
  blob: Uint8Array;
  /** True for `@revoked` lines. */
  revoked: boolean;
  /** 1-based line number. */
  line: number;
}

/**
 * Finds the entries for `host:port` in known-hosts text (plain, wildcard and
 * hashed `|1|` host fields; `@cert-authority` lines are not used).
 *
 * @example
 * ```ts
 * import { findKnownHost } from "@alknet/core/ssh";
 * console.log(findKnownHost("", "example.com", 22)); // []
 * ```
 */
export function findKnownHost(text: string, host: string, port: number): KnownHostEntry[] {
  const name = knownHostsName(host, port);
  const out: KnownHostEntry[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    let fields = line.split(/\s+/);
    let revoked = false;
    if (fields[0].startsWith("@")) {
      if (fields[0] === "@revoked") revoked = true;
      else return;
      fields = fields.slice(1);
    }
    if (fields.length < 3 || !hostFieldMatches(fields[0], name)) return;
    try {
      const key = parsePublicKeyLine(fields.slice(1).join(" "), `known_hosts line ${i + 1}`);
      out.push({ type: key.type, blob: key.blob, revoked, line: i + 1 });
    } catch { /* a broken line matches nothing */ }
  });
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * How the client decides whether to trust a server's host key.
 *
 * @example
 * ```ts
 * import type { HostKeyPolicy } from "@alknet/core/ssh";
 * const pinned: HostKeyPolicy = { pinnedFingerprint: "SHA256:" + "A".repeat(43) };
 * const firstUse: HostKeyPolicy = { knownHostsPath: "./known_hosts", onTrusted: console.log };
 * console.log(Object.keys(pinned), Object.keys(firstUse).length); // [ "pinnedFingerprint" ] 2
 * ```
 */
export interface HostKeyPolicy {
  /** Accept only this `SHA256:` fingerprint (then the known-hosts file is not used). */
  pinnedFingerprint?: string;
  /** The OpenSSH-format known-hosts file (trust on first use). */
  knownHostsPath?: string;
  /** Told when a new key is trusted and saved. */
  onTrusted?: (message: string) => void;
}

/**
 * Checks a server host key; resolves when it is trusted (saving it on first
 * use) and rejects with {@link HostKeyError} otherwise.
 *
 * @example
 * ```ts
 * import { verifyHostKey } from "@alknet/core/ssh";
 * await verifyHostKey("example.com", 22, new Uint8Array(51), { pinnedFingerprint: "SHA256:x" })
 *   .catch((e) => console.log(e.message));
 * ```
 */
export async function verifyHostKey(
  host: string,
  port: number,
  blob: Uint8Array,
  policy: HostKeyPolicy,
): Promise<void> {
  const fp = fingerprint(blob);
  const name = knownHostsName(host, port);
  if (policy.pinnedFingerprint !== undefined) {
    if (fp === policy.pinnedFingerprint.trim()) return;
    throw new HostKeyError(
      "mismatch",
      `host key of ${name} does not match the pinned fingerprint: expected ${policy.pinnedFingerprint}, got ${fp}. ` +
        `Refusing to connect (someone may be intercepting the connection).`,
    );
  }
  const path = policy.knownHostsPath;
  if (!path) {
    throw new HostKeyError("unverifiable", `no way to verify the host key of ${name} (${fp})`);
  }
  let text = "";
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      throw new HostKeyError(
        "unreadable",
        `cannot read known hosts file ${path}: ${(e as Error).message}`,
      );
    }
  }
  const entries = findKnownHost(text, host, port);
  const match = entries.find((e) => sameBytes(e.blob, blob));
  if (match?.revoked) {
    throw new HostKeyError(
      "revoked",
      `host key of ${name} (${fp}) is marked @revoked in ${path}:${match.line}`,
    );
  }
  if (match) return;
  if (entries.length > 0) {
    const known = entries.filter((e) => !e.revoked).map((e) =>
      `${fingerprint(e.blob)} (line ${e.line})`
    );
    throw new HostKeyError(
      "changed",
      `WARNING: the host key of ${name} has CHANGED. It is now ${fp}, but ${path} has ${
        known.join(", ")
      }. ` +
        `Someone could be intercepting the connection, or the server's key was replaced. ` +
        `Refusing to connect. If the change is expected, remove the old line from ${path}.`,
    );
  }
  await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const line = `${name} ${publicKeyLine(blob)}\n`;
  const prefix = text.length > 0 && !text.endsWith("\n") ? "\n" : "";
  await Deno.writeTextFile(path, prefix + line, { append: true, create: true, mode: 0o600 });
  policy.onTrusted?.(`trusting new host key for ${name}: ${fp} (saved to ${path})`);
}
