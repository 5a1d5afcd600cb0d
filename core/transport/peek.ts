/**
 * Protocol detection on a fresh connection: read the first bytes (until 8
 * bytes, end of stream or a deadline) and tell SSH from HTTP from anything
 * else. The bytes read are handed on, never lost.
 *
 * @module
 */

import type { ByteConn } from "./stream.ts";
import { Deadline, TIMED_OUT } from "../util/timeout.ts";

/**
 * What the first bytes of a connection look like.
 *
 * @example
 * ```ts
 * import type { PeekedProtocol } from "@alknet/core/transport";
 * const handlerFor = (p: PeekedProtocol) =>
 *   p === "ssh" ? "the SSH server" : p === "http" ? "the web site" : "close";
 * console.log(handlerFor("http")); // "the web site"
 * ```
 */
export type PeekedProtocol = "ssh" | "http" | "unknown" | "silent";

/**
 * The result of {@link peekProtocol}: the guess and the bytes consumed.
 *
 * @example
 * ```ts
 * import type { Peeked } from "@alknet/core/transport";
 * const describe = (p: Peeked) => `${p.protocol}, ${p.prefix.length} bytes read`;
 * console.log(
 *   describe({
 *     protocol: "ssh",
 *     prefix: new TextEncoder().encode("SSH-2.0-"),
 *     eof: false,
 *     timedOut: false,
 *   }),
 * );
 * ```
 */
export interface Peeked {
  /** `ssh` (`SSH-`), `http` (a request line), `unknown`, or `silent` (nothing before the deadline). */
  protocol: PeekedProtocol;
  /** Everything read so far; deliver it before further reads. */
  prefix: Uint8Array;
  /** True when the peer closed before sending 8 bytes. */
  eof: boolean;
  /**
   * True when the deadline passed first; a read is then still pending on the
   * connection, so the caller must close it rather than read on.
   */
  timedOut: boolean;
}

const HTTP_METHODS = [
  "GET ",
  "POST",
  "PUT ",
  "HEAD",
  "DELE",
  "OPTI",
  "PATC",
  "CONN",
  "PRI ",
  "TRAC",
];

/**
 * Classifies a prefix of bytes.
 *
 * @example
 * ```ts
 * import { classifyPrefix } from "@alknet/core/transport";
 * console.log(classifyPrefix(new TextEncoder().encode("SSH-2.0-"))); // "ssh"
 * ```
 */
export function classifyPrefix(prefix: Uint8Array): PeekedProtocol {
  if (prefix.length === 0) return "silent";
  const text = String.fromCharCode(...prefix.subarray(0, 8));
  if (text.startsWith("SSH-")) return "ssh";
  if (HTTP_METHODS.some((m) => text.startsWith(m))) return "http";
  return "unknown";
}

/**
 * Reads until 8 bytes, end of stream or `timeoutMs` (default 5 s) and
 * classifies them.
 *
 * @example
 * ```ts
 * import { peekProtocol } from "@alknet/core/transport";
 * const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * // const conn = await l.accept(); const { protocol, prefix } = await peekProtocol(conn);
 * l.close();
 * ```
 */
export async function peekProtocol(conn: ByteConn, timeoutMs = 5000): Promise<Peeked> {
  const buf = new Uint8Array(64 * 1024);
  let have = 0;
  let eof = false;
  let timedOut = false;
  const deadline = new Deadline(timeoutMs);
  try {
    while (have < 8) {
      const r = await deadline.race(conn.read(buf.subarray(have)));
      if (r === TIMED_OUT) {
        timedOut = true;
        break;
      }
      if (r === null) {
        eof = true;
        break;
      }
      have += r;
    }
  } catch {
    eof = true;
  } finally {
    deadline.clear();
  }
  const prefix = buf.slice(0, have);
  const protocol = classifyPrefix(prefix);
  return { protocol, prefix, eof, timedOut };
}
