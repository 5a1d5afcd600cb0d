/**
 * The server's `EXT_INFO` (RFC 8308) and identification line.
 *
 * ssh2 1.17.0 builds its `server-sig-algs` from a fixed string that lacks a
 * comma (`...ecdsa-sha2-nistp521rsa-sha2-512,...`) and lists `ssh-rsa`
 * (SHA-1) and `ssh-dss`, which alknet never accepts: an OpenSSH client whose
 * RSA key may only sign with `rsa-sha2-512` finds "no mutual signature
 * algorithm". The string cannot be configured, and the packet is encrypted
 * by the time it reaches the socket, so the server replaces the payload
 * one step earlier: during the first handshake's completion (the only
 * moment ssh2 sends `EXT_INFO`) the connection's packet writer swaps an
 * outgoing `EXT_INFO` payload for one listing {@link SERVER_SIG_ALGS}, and
 * is restored right after. Nothing of ssh2 is patched; only the one
 * connection's objects are touched, and only if they have the expected
 * shape (otherwise ssh2's own message goes out unchanged).
 *
 * @module
 */

import { OptionError } from "../util/errors.ts";

/**
 * The signature algorithms the server verifies in public-key logins, most
 * preferred first: what it sends as `server-sig-algs`. No SHA-1, no DSA.
 *
 * @example
 * ```ts
 * import { SERVER_SIG_ALGS } from "@alknet/core/ssh";
 * console.log(SERVER_SIG_ALGS.includes("rsa-sha2-512")); // true
 * ```
 */
export const SERVER_SIG_ALGS: readonly string[] = Object.freeze([
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "rsa-sha2-512",
  "rsa-sha2-256",
]);

/** SSH_MSG_EXT_INFO. */
const EXT_INFO = 7;

/**
 * Encodes an `EXT_INFO` message payload (RFC 8308 section 2.3).
 *
 * @example
 * ```ts
 * import { encodeExtInfo } from "@alknet/core/ssh";
 * const p = encodeExtInfo([["server-sig-algs", "ssh-ed25519"]]);
 * console.log(p[0], p.length); // 7 39
 * ```
 */
export function encodeExtInfo(extensions: [string, string][]): Uint8Array {
  const enc = new TextEncoder();
  const parts = extensions.flatMap(([k, v]) => [enc.encode(k), enc.encode(v)]);
  const out = new Uint8Array(1 + 4 + parts.reduce((n, p) => n + 4 + p.length, 0));
  const view = new DataView(out.buffer);
  out[0] = EXT_INFO;
  view.setUint32(1, extensions.length);
  let off = 5;
  for (const p of parts) {
    view.setUint32(off, p.length);
    out.set(p, off + 4);
    off += 4 + p.length;
  }
  return out;
}

/** The ssh2 protocol internals the `EXT_INFO` replacement relies on (internal). */
interface ProtocolInternals {
  _onHandshakeComplete: (...args: unknown[]) => unknown;
  _packetRW: { write: PacketWriterLike };
}

interface PacketWriterLike {
  allocStart: number;
  alloc(size: number, force?: boolean): Uint8Array;
  finalize(packet: Uint8Array, force?: boolean): Uint8Array;
}

function hasInternals(p: unknown): p is ProtocolInternals {
  const proto = p as Partial<ProtocolInternals> | undefined;
  const w = proto?._packetRW?.write;
  return typeof proto?._onHandshakeComplete === "function" &&
    typeof w?.alloc === "function" && typeof w?.finalize === "function" &&
    typeof w?.allocStart === "number";
}

/**
 * Makes one ssh2 server connection send `server-sig-algs` = `algs` instead
 * of ssh2's built-in list. Call it when ssh2 reports the connection (before
 * the key exchange completes). Returns false, changing nothing, when the
 * protocol object does not have the expected shape.
 *
 * @example
 * ```ts
 * import { replaceServerSigAlgs } from "@alknet/core/ssh";
 * console.log(replaceServerSigAlgs({})); // false: not an ssh2 protocol object
 * ```
 */
export function replaceServerSigAlgs(
  protocol: unknown,
  algs: readonly string[] = SERVER_SIG_ALGS,
): boolean {
  if (!hasInternals(protocol)) return false;
  const payload = encodeExtInfo([["server-sig-algs", algs.join(",")]]);
  const complete = protocol._onHandshakeComplete;
  protocol._onHandshakeComplete = function (this: unknown, ...args: unknown[]) {
    const writer = protocol._packetRW.write;
    if (typeof writer?.finalize !== "function") return complete.apply(this, args);
    const own = Object.hasOwn(writer, "finalize");
    const previous = writer.finalize;
    writer.finalize = function (packet: Uint8Array, force?: boolean) {
      if (!force && packet[writer.allocStart] === EXT_INFO) {
        const replacement = writer.alloc(payload.length);
        replacement.set(payload, writer.allocStart);
        return previous.call(writer, replacement, force);
      }
      return previous.call(writer, packet, force);
    };
    try {
      return complete.apply(this, args);
    } finally {
      if (own) writer.finalize = previous;
      else delete (writer as Partial<PacketWriterLike>).finalize;
    }
  };
  return true;
}

/**
 * The default identification: `SSH-2.0-alknet`. It names no OpenSSH release
 * (the key exchange offer would contradict it, and version scanners match
 * releases against CVEs).
 *
 * @example
 * ```ts
 * import { SERVER_IDENT } from "@alknet/core/ssh";
 * console.log(`SSH-2.0-${SERVER_IDENT}`); // "SSH-2.0-alknet"
 * ```
 */
export const SERVER_IDENT = "alknet";

/**
 * Checks an identification banner (`ssh.banner`) and returns what follows
 * `SSH-2.0-`: a software version of printable ASCII without spaces or `-`,
 * optionally a space and comments (RFC 4253 section 4.2), the whole line at
 * most 255 bytes. A leading `SSH-2.0-` is accepted and removed.
 *
 * @param option the option's name in error messages (default `banner`)
 * @throws {OptionError} naming `option` when the banner is malformed
 * @example
 * ```ts
 * import { sshBannerIdent } from "@alknet/core/ssh";
 * console.log(sshBannerIdent("SSH-2.0-Server_1 hello")); // "Server_1 hello"
 * ```
 */
export function sshBannerIdent(banner: string, option = "banner"): string {
  if (typeof banner !== "string") throw new OptionError(option, "must be a string");
  const ident = banner.startsWith("SSH-2.0-") ? banner.slice(8) : banner;
  const space = ident.indexOf(" ");
  const software = space < 0 ? ident : ident.slice(0, space);
  const fail = (why: string): never => {
    throw new OptionError(option, why);
  };
  if (software === "") fail("the software version is empty");
  if (!/^[\x21-\x2c\x2e-\x7e]+$/.test(software)) {
    fail("the software version must be printable ASCII without spaces or '-'");
  }
  if (!/^[\x20-\x7e]*$/.test(ident)) fail("comments must be printable ASCII");
  if (8 + ident.length + 2 > 255) fail("the identification line is longer than 255 bytes");
  return ident;
}
