/**
 * The client side of SOCKS5 CONNECT (RFC 1928, optional RFC 1929
 * username/password) on an already open connection. Host names are sent
 * unresolved, so the proxy does the DNS lookup.
 *
 * @module
 */

import { CoreError } from "../util/errors.ts";
import { type ByteConn, writeAll } from "./stream.ts";
import { parseIPv6 } from "./addr.ts";

/**
 * The proxy refused or failed the request; `reply` is the SOCKS5 reply code
 * (or -1 when the proxy broke the protocol).
 *
 * @example
 * ```ts
 * import { Socks5ClientError } from "@alknet/core/transport";
 * console.log(new Socks5ClientError(5, "connection refused").reply); // 5
 * ```
 */
export class Socks5ClientError extends CoreError {
  /** SOCKS5 reply code, -1 for a protocol error. */
  readonly reply: number;
  /** Creates the error. */
  constructor(reply: number, message: string) {
    super("socks5", `SOCKS5 proxy: ${message}`);
    this.name = "Socks5ClientError";
    this.reply = reply;
  }
}

const REPLY_TEXT: Record<number, string> = {
  1: "general failure",
  2: "connection not allowed by ruleset",
  3: "network unreachable",
  4: "host unreachable",
  5: "connection refused",
  6: "TTL expired",
  7: "command not supported",
  8: "address type not supported",
};

async function readN(conn: ByteConn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let have = 0;
  while (have < n) {
    const r = await conn.read(out.subarray(have));
    if (r === null) {
      throw new Socks5ClientError(-1, "proxy closed the connection during the handshake");
    }
    have += r;
  }
  return out;
}

function encodeAddress(host: string): Uint8Array {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) {
    return new Uint8Array([1, ...host.split(".").map(Number)]);
  }
  if (host.includes(":")) {
    const ip = parseIPv6(host);
    if (!ip) throw new Socks5ClientError(-1, "target host is not a valid IPv6 address");
    return new Uint8Array([4, ...ip]);
  }
  const name = new TextEncoder().encode(host);
  if (name.length === 0 || name.length > 255) {
    throw new Socks5ClientError(-1, "host name must be 1 to 255 bytes");
  }
  return new Uint8Array([3, name.length, ...name]);
}

/**
 * Asks the SOCKS5 proxy at the other end of `conn` to connect to
 * `host:port`; resolves once the proxy reports success, after which `conn`
 * carries the target's bytes.
 *
 * @example
 * ```ts
 * import { socks5ClientConnect } from "@alknet/core/transport";
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: 1080 }).catch(() => null);
 * if (conn) {
 *   await socks5ClientConnect(conn, "example.com", 80).catch((e) => console.error(e.message));
 *   conn.close();
 * }
 * ```
 */
export async function socks5ClientConnect(
  conn: ByteConn,
  host: string,
  port: number,
  credentials?: { username: string; password: string },
): Promise<void> {
  await writeAll(conn, new Uint8Array(credentials ? [5, 2, 0, 2] : [5, 1, 0]));
  const [ver, method] = await readN(conn, 2);
  if (ver !== 5) throw new Socks5ClientError(-1, "not a SOCKS5 proxy");
  if (method === 2 && credentials) {
    const u = new TextEncoder().encode(credentials.username);
    const p = new TextEncoder().encode(credentials.password);
    await writeAll(conn, new Uint8Array([1, u.length, ...u, p.length, ...p]));
    const [, status] = await readN(conn, 2);
    if (status !== 0) throw new Socks5ClientError(-1, "username/password rejected");
  } else if (method !== 0) {
    throw new Socks5ClientError(-1, "proxy accepts none of the offered authentication methods");
  }
  await writeAll(conn, new Uint8Array([5, 1, 0, ...encodeAddress(host), port >> 8, port & 255]));
  const head = await readN(conn, 4);
  if (head[1] !== 0) {
    throw new Socks5ClientError(head[1], REPLY_TEXT[head[1]] ?? `reply code ${head[1]}`);
  }
  const rest = head[3] === 1 ? 4 : head[3] === 4 ? 16 : (await readN(conn, 1))[0];
  await readN(conn, rest + 2);
}
