/**
 * SOCKS5 (RFC 1928) server side: incremental parsers for the greeting and
 * the request, reply encoding, RFC 1929 username/password, and the
 * handshake over a Deno connection. Only CONNECT is served; domain names are
 * passed on unresolved.
 *
 * @module
 */

import { type ByteConn, writeAll } from "../transport/stream.ts";
import { CoreError } from "../util/errors.ts";
import { ChannelOpenError } from "./client.ts";
import { NativeTcpError } from "../transport/native_header.ts";

/**
 * SOCKS5 reply codes (RFC 1928 section 6).
 *
 * @example
 * ```ts
 * import { Socks5Reply } from "@alknet/core/ssh";
 * console.log(Socks5Reply.NOT_ALLOWED, Socks5Reply.CONNECTION_REFUSED); // 2 5
 * ```
 */
export const Socks5Reply = {
  SUCCEEDED: 0x00,
  GENERAL_FAILURE: 0x01,
  NOT_ALLOWED: 0x02,
  NETWORK_UNREACHABLE: 0x03,
  HOST_UNREACHABLE: 0x04,
  CONNECTION_REFUSED: 0x05,
  TTL_EXPIRED: 0x06,
  COMMAND_NOT_SUPPORTED: 0x07,
  ADDRESS_TYPE_NOT_SUPPORTED: 0x08,
} as const;

/**
 * A parse step's outcome: need more bytes, a value, or a protocol error.
 *
 * @example
 * ```ts
 * import { type ParseResult, parseSocks5Greeting, type Socks5Greeting } from "@alknet/core/ssh";
 * const r: ParseResult<Socks5Greeting> = parseSocks5Greeting(new Uint8Array([5, 1]));
 * console.log(r.status); // "incomplete": read more bytes and parse again
 * ```
 */
export type ParseResult<T> =
  | { status: "incomplete" }
  | { status: "ok"; value: T; consumed: number }
  | { status: "error"; message: string; reply?: number };

/**
 * The client's greeting: the authentication methods it offers.
 *
 * @example
 * ```ts
 * import { parseSocks5Greeting, type Socks5Greeting } from "@alknet/core/ssh";
 * const r = parseSocks5Greeting(new Uint8Array([5, 2, 0, 2]));
 * const greeting: Socks5Greeting | undefined = r.status === "ok" ? r.value : undefined;
 * console.log(greeting?.methods); // [ 0, 2 ]
 * ```
 */
export interface Socks5Greeting {
  /** Method codes offered (0 = no auth, 2 = username/password). */
  methods: number[];
}

/**
 * A parsed SOCKS5 request.
 *
 * @example
 * ```ts
 * import type { Socks5Request } from "@alknet/core/ssh";
 * // CONNECT to a name (address type 3)
 * const r: Socks5Request = { command: 1, addressType: 3, host: "example.com", port: 443 };
 * console.log(`${r.host}:${r.port}`); // "example.com:443"
 * ```
 */
export interface Socks5Request {
  /** 1 CONNECT, 2 BIND, 3 UDP ASSOCIATE. */
  command: number;
  /** Address type: 1 IPv4, 3 domain name, 4 IPv6. */
  addressType: 1 | 3 | 4;
  /** Target host: dotted IPv4, IPv6 text (no brackets) or the domain as sent. */
  host: string;
  /** Target port. */
  port: number;
}

/**
 * Parses the SOCKS5 greeting (`VER NMETHODS METHODS...`).
 *
 * @example
 * ```ts
 * import { parseSocks5Greeting } from "@alknet/core/ssh";
 * const r = parseSocks5Greeting(new Uint8Array([5, 1, 0]));
 * console.log(r.status === "ok" && r.value.methods); // [0]
 * ```
 */
export function parseSocks5Greeting(buf: Uint8Array): ParseResult<Socks5Greeting> {
  if (buf.length < 1) return { status: "incomplete" };
  if (buf[0] === 4) {
    return { status: "error", message: "SOCKS4 request on a SOCKS5-only proxy" };
  }
  if (buf[0] !== 5) {
    return { status: "error", message: `not a SOCKS5 greeting (first byte 0x${hex(buf[0])})` };
  }
  if (buf.length < 2) return { status: "incomplete" };
  const n = buf[1];
  if (n === 0) return { status: "error", message: "SOCKS5 greeting offers no methods" };
  if (buf.length < 2 + n) return { status: "incomplete" };
  return { status: "ok", value: { methods: Array.from(buf.subarray(2, 2 + n)) }, consumed: 2 + n };
}

function hex(b: number): string {
  return b.toString(16).padStart(2, "0");
}

/**
 * Formats 16 bytes as an RFC 5952 IPv6 address (longest zero run compressed).
 *
 * @example
 * ```ts
 * import { formatIPv6 } from "@alknet/core/ssh";
 * const b = new Uint8Array(16); b[15] = 1;
 * console.log(formatIPv6(b)); // "::1"
 * ```
 */
export function formatIPv6(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i] << 8) | b[i + 1]);
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const text = groups.map((g) => g.toString(16));
  if (bestStart < 0) return text.join(":");
  const head = text.slice(0, bestStart).join(":");
  const tail = text.slice(bestStart + bestLen).join(":");
  return `${head}::${tail}`;
}

/**
 * Parses a SOCKS5 request (`VER CMD RSV ATYP DST.ADDR DST.PORT`). An
 * unsupported command is reported as soon as the header is read (reply 07),
 * an unknown address type with reply 08.
 *
 * @example
 * ```ts
 * import { parseSocks5Request } from "@alknet/core/ssh";
 * const r = parseSocks5Request(new Uint8Array([5, 1, 0, 1, 127, 0, 0, 1, 0, 80]));
 * console.log(r.status === "ok" && `${r.value.host}:${r.value.port}`); // "127.0.0.1:80"
 * ```
 */
export function parseSocks5Request(buf: Uint8Array): ParseResult<Socks5Request> {
  if (buf.length < 4) return { status: "incomplete" };
  if (buf[0] !== 5) {
    return {
      status: "error",
      message: `bad SOCKS version 0x${hex(buf[0])} in request`,
      reply: Socks5Reply.GENERAL_FAILURE,
    };
  }
  const command = buf[1];
  if (command !== 1) {
    const name = command === 2 ? "BIND" : command === 3 ? "UDP ASSOCIATE" : `0x${hex(command)}`;
    return {
      status: "error",
      message: `SOCKS5 command ${name} is not supported (only CONNECT)`,
      reply: Socks5Reply.COMMAND_NOT_SUPPORTED,
    };
  }
  const atyp = buf[3];
  let host: string;
  let end: number;
  if (atyp === 1) {
    end = 4 + 4;
    if (buf.length < end + 2) return { status: "incomplete" };
    host = `${buf[4]}.${buf[5]}.${buf[6]}.${buf[7]}`;
  } else if (atyp === 4) {
    end = 4 + 16;
    if (buf.length < end + 2) return { status: "incomplete" };
    host = formatIPv6(buf.subarray(4, 20));
  } else if (atyp === 3) {
    if (buf.length < 5) return { status: "incomplete" };
    const len = buf[4];
    end = 5 + len;
    if (buf.length < end + 2) return { status: "incomplete" };
    if (len === 0) {
      return {
        status: "error",
        message: "SOCKS5 request has an empty domain name",
        reply: Socks5Reply.GENERAL_FAILURE,
      };
    }
    host = String.fromCharCode(...buf.subarray(5, end));
    if (!/^[\x21-\x7e]+$/.test(host)) {
      return {
        status: "error",
        message: "SOCKS5 domain name has control or non-ASCII characters",
        reply: Socks5Reply.GENERAL_FAILURE,
      };
    }
  } else {
    return {
      status: "error",
      message: `SOCKS5 address type 0x${hex(atyp)} is not supported`,
      reply: Socks5Reply.ADDRESS_TYPE_NOT_SUPPORTED,
    };
  }
  const port = (buf[end] << 8) | buf[end + 1];
  return { status: "ok", value: { command, addressType: atyp, host, port }, consumed: end + 2 };
}

/**
 * Parses an RFC 1929 username/password sub-negotiation.
 *
 * @example
 * ```ts
 * import { parseSocks5UserPass } from "@alknet/core/ssh";
 * const r = parseSocks5UserPass(new Uint8Array([1, 1, 97, 1, 98]));
 * console.log(r.status === "ok" && r.value.username); // "a"
 * ```
 */
export function parseSocks5UserPass(
  buf: Uint8Array,
): ParseResult<{ username: string; password: string }> {
  if (buf.length < 2) return { status: "incomplete" };
  if (buf[0] !== 1) {
    return { status: "error", message: "bad username/password sub-negotiation version" };
  }
  const ulen = buf[1];
  if (buf.length < 2 + ulen + 1) return { status: "incomplete" };
  const plen = buf[2 + ulen];
  const end = 3 + ulen + plen;
  if (buf.length < end) return { status: "incomplete" };
  const dec = new TextDecoder();
  return {
    status: "ok",
    value: {
      username: dec.decode(buf.subarray(2, 2 + ulen)),
      password: dec.decode(buf.subarray(3 + ulen, end)),
    },
    consumed: end,
  };
}

/**
 * Encodes a SOCKS5 reply with a zero IPv4 bound address.
 *
 * @example
 * ```ts
 * import { encodeSocks5Reply, Socks5Reply } from "@alknet/core/ssh";
 * console.log(encodeSocks5Reply(Socks5Reply.SUCCEEDED)); // Uint8Array(10) [5, 0, 0, 1, 0, ...]
 * ```
 */
export function encodeSocks5Reply(code: number): Uint8Array {
  return new Uint8Array([5, code, 0, 1, 0, 0, 0, 0, 0, 0]);
}

/**
 * A SOCKS client did something wrong; the message says what (never the
 * target it asked for).
 *
 * @example
 * ```ts
 * import { Socks5Error } from "@alknet/core/ssh";
 * const e = new Socks5Error("SOCKS4 request on a SOCKS5-only proxy");
 * console.log(e.name); // "Socks5Error"
 * ```
 */
export class Socks5Error extends CoreError {
  /** Creates the error. */
  constructor(message: string) {
    super("socks5", message);
    this.name = "Socks5Error";
  }
}

/**
 * Options for {@link socks5Handshake}.
 *
 * @example
 * ```ts
 * import type { Socks5HandshakeOptions } from "@alknet/core/ssh";
 * const o: Socks5HandshakeOptions = {
 *   credentials: { username: "me", password: "secret" },
 *   timeoutMs: 5000,
 * };
 * console.log(o.timeoutMs); // 5000
 * ```
 */
export interface Socks5HandshakeOptions {
  /** Require RFC 1929 username/password with these credentials. */
  credentials?: { username: string; password: string };
  /** Give up on a client that has not finished the handshake in time (default 10 s). */
  timeoutMs?: number;
}

/**
 * A finished handshake: the target and how to answer the client.
 *
 * @example
 * ```ts
 * import type { Socks5Accepted } from "@alknet/core/ssh";
 * const target = (a: Socks5Accepted) => `${a.request.host}:${a.request.port}`;
 * console.log(typeof target); // "function"
 * ```
 */
export interface Socks5Accepted {
  /** The CONNECT target. */
  request: Socks5Request;
  /** Bytes the client sent after its request (optimistic data) to forward first. */
  leftover: Uint8Array;
  /** Sends the reply; for a failure code the caller closes the connection afterwards. */
  reply(code: number): Promise<void>;
}

/** The handshake's read buffer at first (a greeting and a request fit many times over). */
const HANDSHAKE_FIRST_BUFFER = 512;
/** Unparsed handshake bytes beyond this are refused. */
const HANDSHAKE_MAX = 4096;

function timingSafeEqualText(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a), y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/**
 * Runs the SOCKS5 server handshake on `conn` up to the CONNECT request.
 * Protocol errors are answered on the wire (SOCKS4 rejection, method 0xFF,
 * reply 07/08/01) and then thrown as {@link Socks5Error}; the caller closes
 * the connection.
 *
 * @example
 * ```ts
 * import { socks5Handshake, Socks5Reply } from "@alknet/core/ssh";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * // for await (const conn of listener) {
 * //   const hs = await socks5Handshake(conn);
 * //   await hs.reply(Socks5Reply.CONNECTION_REFUSED);
 * //   conn.close();
 * // }
 * listener.close();
 * ```
 */
export async function socks5Handshake(
  conn: ByteConn,
  options: Socks5HandshakeOptions = {},
): Promise<Socks5Accepted> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  // One buffer for the whole handshake: reads land at its end, parsed
  // messages are consumed from its start (a greeting and a request sent
  // together are parsed from one read).
  let store = new Uint8Array(HANDSHAKE_FIRST_BUFFER);
  let start = 0;
  let end = 0;
  let buf = store.subarray(0, 0);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      conn.close();
    } catch { /* closed */ }
  }, timeoutMs);
  const fill = async (): Promise<void> => {
    if (end - start > HANDSHAKE_MAX) throw new Socks5Error("SOCKS5 handshake too long");
    if (end === store.length) {
      const next = new Uint8Array(start > 0 ? store.length : store.length * 2);
      next.set(store.subarray(start, end));
      store = next;
      end -= start;
      start = 0;
    }
    let n: number | null;
    try {
      n = await conn.read(store.subarray(end));
    } catch {
      n = null;
    }
    if (n === null) {
      throw new Socks5Error(
        timedOut
          ? `SOCKS5 handshake not finished within ${timeoutMs} ms`
          : "SOCKS5 client closed the connection mid-handshake",
      );
    }
    end += n;
    buf = store.subarray(start, end);
  };
  async function step<T>(parse: (b: Uint8Array) => ParseResult<T>): Promise<T> {
    while (true) {
      const r = parse(buf);
      if (r.status === "ok") {
        start += r.consumed;
        buf = store.subarray(start, end);
        return r.value;
      }
      if (r.status === "error") {
        if (r.reply !== undefined) await writeAll(conn, encodeSocks5Reply(r.reply)).catch(() => {});
        throw new Socks5Error(r.message);
      }
      await fill();
    }
  }
  try {
    await fill();
    if (buf[0] === 4) {
      // SOCKS4 reply: VN=0, CD=91 (request rejected).
      await writeAll(conn, new Uint8Array([0, 91, 0, 0, 0, 0, 0, 0])).catch(() => {});
      throw new Socks5Error("SOCKS4 request on a SOCKS5-only proxy");
    }
    const greeting = await step(parseSocks5Greeting);
    const method = options.credentials ? 2 : 0;
    if (!greeting.methods.includes(method)) {
      await writeAll(conn, new Uint8Array([5, 0xff])).catch(() => {});
      throw new Socks5Error(
        options.credentials
          ? "SOCKS5 client does not offer username/password authentication"
          : "SOCKS5 client does not offer the no-authentication method",
      );
    }
    await writeAll(conn, new Uint8Array([5, method]));
    if (options.credentials) {
      const cred = await step(parseSocks5UserPass);
      const ok = timingSafeEqualText(cred.username, options.credentials.username) &&
        timingSafeEqualText(cred.password, options.credentials.password);
      await writeAll(conn, new Uint8Array([1, ok ? 0 : 1]));
      if (!ok) throw new Socks5Error("SOCKS5 username/password rejected");
    }
    const request = await step(parseSocks5Request);
    const leftover = buf.slice();
    return {
      request,
      leftover,
      reply: (code) => writeAll(conn, encodeSocks5Reply(code)),
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The SOCKS5 reply for a failed tunnel open: SSH open failures by their
 * decoded failure (02 prohibited, 05 refused, 04 unreachable), native data
 * path failures by status, 01 for anything else.
 *
 * @example
 * ```ts
 * import { ChannelOpenError, socksReplyFor } from "@alknet/core/ssh";
 * console.log(socksReplyFor(new ChannelOpenError(1, "administratively prohibited"))); // 2
 * console.log(socksReplyFor(new ChannelOpenError(2, "connection refused"))); // 5
 * ```
 */
export function socksReplyFor(e: unknown): number {
  if (e instanceof NativeTcpError) {
    return e.status === "forbidden"
      ? Socks5Reply.NOT_ALLOWED
      : e.status === "refused"
      ? Socks5Reply.CONNECTION_REFUSED
      : e.status === "malformed"
      ? Socks5Reply.GENERAL_FAILURE
      : Socks5Reply.HOST_UNREACHABLE;
  }
  if (e instanceof ChannelOpenError) {
    switch (e.failure) {
      case "prohibited":
        return Socks5Reply.NOT_ALLOWED;
      case "refused":
        return Socks5Reply.CONNECTION_REFUSED;
      case "unreachable":
        return Socks5Reply.HOST_UNREACHABLE;
    }
  }
  return Socks5Reply.GENERAL_FAILURE;
}
