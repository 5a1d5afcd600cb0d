/**
 * The native data path, ALPN `alknet/tcp`: one forwarded TCP connection per
 * QUIC stream or per TLS connection, without SSH in between. The client
 * sends a short header naming the target and carrying a DESIGN 4.5 token;
 * the server checks the token, the key's forwarding restrictions and the
 * forwarding policy exactly as for an SSH `direct-tcpip` channel, dials, and
 * answers one status byte; then raw bytes flow both ways.
 *
 * Header (client → server), all integers big-endian:
 *
 * | field        | size            | value                                        |
 * |--------------|-----------------|----------------------------------------------|
 * | version      | 1               | `0x01`                                       |
 * | token length | 2               | 1..1024                                      |
 * | token        | token length    | ASCII: a signed token or an `alk_` API key   |
 * | host length  | 1               | 1..255                                       |
 * | host         | host length     | UTF-8 host name or IP literal (no brackets)  |
 * | port         | 2               | 1..65535                                     |
 *
 * Status (server → client), one byte: `0` ok, `1` forbidden (bad token or
 * policy), `2` unreachable, `3` refused, `4` malformed, `5` timeout. On any
 * non-zero status the server closes the stream.
 *
 * @module
 */

import type { ByteConn } from "../transport/stream.ts";
import { relayConns, writeAll } from "../transport/stream.ts";
import { type Dialer, DialError, dialTcp } from "../transport/tcp.ts";
import type { ForwardingPolicy, ForwardRestrictions, Identity } from "../auth/identity.ts";
import { restrictionsAllow } from "../auth/policy.ts";
import type { Logger } from "../util/log.ts";
import { hostPort } from "../transport/hostport.ts";
import { prefixedConn } from "../transport/conn.ts";
import type { ConnHandler, ConnInfo } from "../transport/endpoint.ts";
import { type DialOptions, dialQuic, dialTls } from "../transport/dial.ts";

/**
 * The ALPN of the native data path.
 *
 * @example
 * ```ts
 * import { NATIVE_TCP_ALPN } from "./native_path.ts";
 * console.log(NATIVE_TCP_ALPN); // "alknet/tcp"
 * ```
 */
export const NATIVE_TCP_ALPN = "alknet/tcp";

/**
 * Header version byte.
 *
 * @example
 * ```ts
 * import { NATIVE_TCP_VERSION } from "./native_path.ts";
 * console.log(NATIVE_TCP_VERSION); // 1
 * ```
 */
export const NATIVE_TCP_VERSION = 1;

/**
 * Longest token accepted in a header.
 *
 * @example
 * ```ts
 * import { NATIVE_TCP_MAX_TOKEN } from "./native_path.ts";
 * console.log(NATIVE_TCP_MAX_TOKEN); // 1024
 * ```
 */
export const NATIVE_TCP_MAX_TOKEN = 1024;

/**
 * Status bytes of the native data path.
 *
 * @example
 * ```ts
 * import { NativeTcpStatus } from "./native_path.ts";
 * console.log(NativeTcpStatus.FORBIDDEN); // 1
 * ```
 */
export const NativeTcpStatus = {
  OK: 0,
  FORBIDDEN: 1,
  UNREACHABLE: 2,
  REFUSED: 3,
  MALFORMED: 4,
  TIMEOUT: 5,
} as const;

/**
 * A status name.
 *
 * @example
 * ```ts
 * import type { NativeTcpStatusName } from "./native_path.ts";
 * const s: NativeTcpStatusName = "refused";
 * console.log(s);
 * ```
 */
export type NativeTcpStatusName = "forbidden" | "unreachable" | "refused" | "malformed" | "timeout";

const STATUS_NAMES: Record<number, NativeTcpStatusName> = {
  1: "forbidden",
  2: "unreachable",
  3: "refused",
  4: "malformed",
  5: "timeout",
};

/**
 * The server refused a native forward, or the header was bad.
 *
 * @example
 * ```ts
 * import { NativeTcpError } from "./native_path.ts";
 * const e = new NativeTcpError("forbidden");
 * console.log(e.status, e.message);
 * ```
 */
export class NativeTcpError extends Error {
  /** Why. */
  readonly status: NativeTcpStatusName;
  /** Creates the error. */
  constructor(status: NativeTcpStatusName, detail?: string) {
    super(`alknet/tcp: ${status}${detail ? ` (${detail})` : ""}`);
    this.name = "NativeTcpError";
    this.status = status;
  }
}

/**
 * A parsed header.
 *
 * @example
 * ```ts
 * import { encodeNativeTcpHeader, type NativeTcpHeader } from "./native_path.ts";
 * const h: NativeTcpHeader = { token: "t", host: "db.internal", port: 5432 };
 * console.log(encodeNativeTcpHeader(h)[0]); // 1
 * ```
 */
export interface NativeTcpHeader {
  /** The token text. */
  token: string;
  /** Target host. */
  host: string;
  /** Target port. */
  port: number;
}

/**
 * Encodes a header.
 *
 * @throws {NativeTcpError} (`malformed`) when a field is out of range
 * @example
 * ```ts
 * import { encodeNativeTcpHeader } from "./native_path.ts";
 * console.log(encodeNativeTcpHeader({ token: "t", host: "db", port: 5432 }).length); // 10
 * ```
 */
export function encodeNativeTcpHeader(h: NativeTcpHeader): Uint8Array {
  const token = new TextEncoder().encode(h.token);
  const host = new TextEncoder().encode(h.host);
  if (token.length < 1 || token.length > NATIVE_TCP_MAX_TOKEN) {
    throw new NativeTcpError("malformed", `token must be 1..${NATIVE_TCP_MAX_TOKEN} bytes`);
  }
  if (host.length < 1 || host.length > 255) {
    throw new NativeTcpError("malformed", "host must be 1..255 bytes");
  }
  if (!Number.isInteger(h.port) || h.port < 1 || h.port > 65535) {
    throw new NativeTcpError("malformed", "port must be 1..65535");
  }
  const out = new Uint8Array(1 + 2 + token.length + 1 + host.length + 2);
  const dv = new DataView(out.buffer);
  out[0] = NATIVE_TCP_VERSION;
  dv.setUint16(1, token.length);
  out.set(token, 3);
  out[3 + token.length] = host.length;
  out.set(host, 4 + token.length);
  dv.setUint16(4 + token.length + host.length, h.port);
  return out;
}

/**
 * Tries to decode a header from the start of `buf`: the header and the
 * number of bytes it used, `null` when more bytes are needed.
 *
 * @throws {NativeTcpError} (`malformed`) on a bad version, length or port
 * @example
 * ```ts
 * import { decodeNativeTcpHeader, encodeNativeTcpHeader } from "./native_path.ts";
 * const bytes = encodeNativeTcpHeader({ token: "t", host: "db", port: 5432 });
 * console.log(decodeNativeTcpHeader(bytes)?.header.port); // 5432
 * console.log(decodeNativeTcpHeader(bytes.subarray(0, 4))); // null
 * ```
 */
export function decodeNativeTcpHeader(
  buf: Uint8Array,
): { header: NativeTcpHeader; used: number } | null {
  if (buf.length < 1) return null;
  if (buf[0] !== NATIVE_TCP_VERSION) {
    throw new NativeTcpError("malformed", `unsupported version ${buf[0]}`);
  }
  if (buf.length < 3) return null;
  const tokenLen = (buf[1] << 8) | buf[2];
  if (tokenLen < 1 || tokenLen > NATIVE_TCP_MAX_TOKEN) {
    throw new NativeTcpError("malformed", "bad token length");
  }
  if (buf.length < 4 + tokenLen) return null;
  const hostLen = buf[3 + tokenLen];
  if (hostLen < 1) throw new NativeTcpError("malformed", "empty host");
  const end = 4 + tokenLen + hostLen + 2;
  if (buf.length < end) return null;
  const port = (buf[end - 2] << 8) | buf[end - 1];
  if (port < 1) throw new NativeTcpError("malformed", "port 0");
  let token: string;
  let host: string;
  try {
    const dec = new TextDecoder("utf-8", { fatal: true });
    token = dec.decode(buf.subarray(3, 3 + tokenLen));
    host = dec.decode(buf.subarray(4 + tokenLen, 4 + tokenLen + hostLen));
  } catch {
    throw new NativeTcpError("malformed", "token or host is not UTF-8");
  }
  if (/[\0-\x20\x7f]/.test(token)) throw new NativeTcpError("malformed", "bad token characters");
  if (/[\0-\x20\x7f/]/.test(host)) throw new NativeTcpError("malformed", "bad host characters");
  return { header: { token, host, port }, used: end };
}

/**
 * What a token stands for: an identity, optionally with per-key forwarding limits.
 *
 * @example
 * ```ts
 * import type { NativeTcpGrant } from "./native_path.ts";
 * const g: NativeTcpGrant = {
 *   identity: { id: "SHA256:x", scopes: ["relay:connect"], resources: {} },
 *   restrictions: { noPortForwarding: false, permitOpen: ["db:5432"] },
 * };
 * console.log(g.identity.id);
 * ```
 */
export interface NativeTcpGrant {
  /** Who. */
  identity: Identity;
  /** Limits from the key's `authorized_keys` options (`permitopen=`, ...). */
  restrictions?: ForwardRestrictions;
}

/**
 * Options of {@link nativeTcpHandler}.
 *
 * @example
 * ```ts
 * import type { NativeTcpOptions } from "./native_path.ts";
 * const o: NativeTcpOptions = { resolveToken: () => null, policy: { evaluate: () => "deny" } };
 * console.log(typeof o.resolveToken); // "function"
 * ```
 */
export interface NativeTcpOptions {
  /**
   * Resolves the header's token (same authorized set as SSH). Return an
   * Identity, a grant with restrictions, or null to refuse. Use
   * `AuthorizedKeysAuthenticator.authorizeToken(token, info.remoteAddress)`
   * to honour `from=`, `expiry-time=` and `permitopen=`.
   */
  resolveToken(
    token: string,
    info: ConnInfo,
  ): Identity | NativeTcpGrant | null | Promise<Identity | NativeTcpGrant | null>;
  /** The forwarding policy (the SSH server's). */
  policy: ForwardingPolicy;
  /** Outbound connections (default: direct TCP with NODELAY). */
  dial?: Dialer;
  /** Auth events are logged here; targets never are. */
  logger?: Logger;
  /** Deadline for the header (default 10 000 ms). */
  headerTimeoutMs?: number;
}

function isGrant(v: Identity | NativeTcpGrant): v is NativeTcpGrant {
  return typeof (v as NativeTcpGrant).identity === "object" &&
    (v as NativeTcpGrant).identity !== null;
}

async function readHeader(
  conn: ByteConn,
  timeoutMs: number,
): Promise<{ header: NativeTcpHeader; rest: Uint8Array }> {
  const max = 1 + 2 + NATIVE_TCP_MAX_TOKEN + 1 + 255 + 2;
  const buf = new Uint8Array(max + 64 * 1024);
  let have = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), timeoutMs));
  try {
    while (true) {
      const parsed = decodeNativeTcpHeader(buf.subarray(0, have));
      if (parsed) return { header: parsed.header, rest: buf.slice(parsed.used, have) };
      if (have >= max) throw new NativeTcpError("malformed", "header too long");
      const n = await Promise.race([conn.read(buf.subarray(have)), late]);
      if (n === "timeout") throw new NativeTcpError("timeout", "no header in time");
      if (n === null) throw new NativeTcpError("malformed", "stream ended inside the header");
      have += n;
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The server side: returns the endpoint's `tcp` handler.
 *
 * @example
 * ```ts
 * import { listenEndpoint, nativeTcpHandler } from "../transport/mod.ts";
 * const tcp = nativeTcpHandler({
 *   resolveToken: () => null,
 *   policy: { evaluate: () => "allow" },
 * });
 * const ep = await listenEndpoint("tcp://127.0.0.1:0", { handlers: { ssh: (c) => c.close(), tcp } });
 * await ep.close();
 * ```
 */
export function nativeTcpHandler(options: NativeTcpOptions): ConnHandler {
  const dial = options.dial ?? dialTcp;
  const log = options.logger;
  const headerMs = options.headerTimeoutMs ?? 10_000;
  const answer = async (conn: ByteConn, status: number) => {
    await writeAll(conn, new Uint8Array([status])).catch(() => {});
    if (status !== NativeTcpStatus.OK) {
      await conn.closeWrite?.().catch(() => {});
      try {
        conn.close();
      } catch { /* closed */ }
    }
  };
  const serve = async (conn: ByteConn, info: ConnInfo) => {
    const remote = hostPort(info.remoteAddress, info.remotePort);
    let header: NativeTcpHeader;
    let rest: Uint8Array;
    try {
      ({ header, rest } = await readHeader(conn, headerMs));
    } catch (e) {
      const status = e instanceof NativeTcpError && e.status === "timeout"
        ? NativeTcpStatus.TIMEOUT
        : NativeTcpStatus.MALFORMED;
      log?.event("conn rejected", { remote, transport: info.transport, reason: "bad-header" });
      return answer(conn, status);
    }
    let resolved: Identity | NativeTcpGrant | null = null;
    try {
      resolved = await options.resolveToken(header.token, info);
    } catch {
      resolved = null;
    }
    if (!resolved) {
      log?.event("auth", { result: "reject", remote, method: "token", transport: info.transport });
      return answer(conn, NativeTcpStatus.FORBIDDEN);
    }
    const identity = isGrant(resolved) ? resolved.identity : resolved;
    const restrictions = isGrant(resolved) ? resolved.restrictions : undefined;
    const { host, port } = header;
    const allowed = !host.toLowerCase().startsWith("alknet-") &&
      (!restrictions || restrictionsAllow(restrictions, { kind: "connect", host, port })) &&
      options.policy.evaluate({
          kind: "connect",
          host,
          port,
          identity,
          transport: info.transport,
        }) ===
        "allow";
    if (!allowed) {
      log?.event("forward refused", { remote, reason: "administratively-prohibited" });
      return answer(conn, NativeTcpStatus.FORBIDDEN);
    }
    let target: ByteConn;
    try {
      target = await dial(host, port);
    } catch (e) {
      const kind = e instanceof DialError ? e.kind : "unreachable";
      return answer(
        conn,
        kind === "refused"
          ? NativeTcpStatus.REFUSED
          : kind === "timeout"
          ? NativeTcpStatus.TIMEOUT
          : NativeTcpStatus.UNREACHABLE,
      );
    }
    try {
      await writeAll(conn, new Uint8Array([NativeTcpStatus.OK]));
    } catch {
      target.close();
      conn.close();
      return;
    }
    await relayConns(prefixedConn(conn, rest), target);
  };
  return (conn, info) => {
    serve(conn, info).catch(() => {
      try {
        conn.close();
      } catch { /* closed */ }
    });
  };
}

/**
 * Opens a fresh byte stream to the node's `alknet/tcp` service.
 *
 * @example
 * ```ts
 * import type { NativeStreamOpener } from "./native_path.ts";
 * import { dialTls } from "../transport/dial.ts";
 * const open: NativeStreamOpener = () => dialTls("127.0.0.1", 443, { alpn: ["alknet/tcp"] });
 * console.log(typeof open); // "function"
 * ```
 */
export type NativeStreamOpener = () => Promise<ByteConn>;

/**
 * The client side: opens a stream with `open`, sends the header and waits
 * for the status; resolves to the stream carrying the target's bytes.
 *
 * @throws {NativeTcpError} when the server refuses (status names why)
 * @example
 * ```ts
 * import { nativeTcpOverTls, openNativeTcp } from "./native_path.ts";
 * const open = nativeTcpOverTls("127.0.0.1", 443, { caFile: "cert.pem" });
 * const conn = await openNativeTcp(open, "token", "db.internal", 5432).catch((e) => e.message);
 * console.log(conn);
 * ```
 */
export async function openNativeTcp(
  open: NativeStreamOpener,
  token: string,
  host: string,
  port: number,
  timeoutMs = 10_000,
): Promise<ByteConn> {
  const header = encodeNativeTcpHeader({ token, host, port });
  const conn = await open();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await writeAll(conn, header);
    const one = new Uint8Array(1);
    const late = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), timeoutMs));
    let n: number | null | "timeout" = 0;
    while (n === 0) n = await Promise.race([conn.read(one), late]);
    if (n === "timeout") throw new NativeTcpError("timeout", "no status from the server");
    if (n === null) throw new NativeTcpError("unreachable", "server closed the stream");
    if (one[0] !== NativeTcpStatus.OK) {
      throw new NativeTcpError(STATUS_NAMES[one[0]] ?? "malformed");
    }
    return conn;
  } catch (e) {
    try {
      conn.close();
    } catch { /* closed */ }
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A {@link NativeStreamOpener} that opens one TLS connection (ALPN
 * `alknet/tcp`) per forward.
 *
 * @example
 * ```ts
 * import { nativeTcpOverTls } from "./native_path.ts";
 * const open = nativeTcpOverTls("127.0.0.1", 443, { insecure: true });
 * console.log(typeof open); // "function"
 * ```
 */
export function nativeTcpOverTls(
  host: string,
  port: number,
  options: DialOptions = {},
): NativeStreamOpener {
  return async () => {
    const conn = await dialTls(host, port, { ...options, alpn: [NATIVE_TCP_ALPN] });
    if (conn.alpn !== NATIVE_TCP_ALPN) {
      conn.close();
      throw new NativeTcpError("unreachable", "server does not offer alknet/tcp");
    }
    return conn;
  };
}

/**
 * A {@link NativeStreamOpener} that opens one stream per forward on a QUIC
 * connection with ALPN `alknet/tcp`, (re)connecting lazily.
 *
 * @example
 * ```ts
 * import { nativeTcpOverQuic } from "./native_path.ts";
 * const q = nativeTcpOverQuic("127.0.0.1", 443, { caFile: "cert.pem" });
 * // const conn = await openNativeTcp(q.open, token, "db", 5432);
 * q.close();
 * ```
 */
export function nativeTcpOverQuic(
  host: string,
  port: number,
  options: DialOptions = {},
): { open: NativeStreamOpener; close(): void } {
  return sharedSessionOpener(async () => {
    const s = await dialQuic(host, port, { ...options, alpn: [NATIVE_TCP_ALPN] });
    return { openStream: () => s.openStream(), close: () => s.close(), closed: s.conn.closed };
  });
}

/** A connection that carries many streams (QUIC, iroh). */
export interface StreamSession {
  /** Opens one bidirectional stream. */
  openStream(): Promise<ByteConn>;
  /** Closes the connection. */
  close(): void;
  /** Settles when the connection has closed. */
  closed: Promise<unknown>;
}

/**
 * One connection, dialled on first use and again after it closes, with a
 * new stream per forward: the opener the native path uses over QUIC and iroh.
 *
 * @example
 * ```ts
 * import { sharedSessionOpener } from "./native_path.ts";
 * const opener = sharedSessionOpener(() => Promise.reject(new Error("offline")));
 * await opener.open().catch((e) => console.log(e.message)); // offline
 * opener.close();
 * ```
 */
export function sharedSessionOpener(
  dial: () => Promise<StreamSession>,
): { open: NativeStreamOpener; close(): void } {
  let session: Promise<StreamSession> | undefined;
  let closed = false;
  const get = () => {
    session ??= dial().then((s) => {
      s.closed.then(() => session = undefined, () => session = undefined);
      return s;
    }, (e) => {
      session = undefined;
      throw e;
    });
    return session;
  };
  return {
    async open() {
      if (closed) throw new NativeTcpError("unreachable", "opener is closed");
      return await (await get()).openStream();
    },
    close() {
      closed = true;
      session?.then((s) => s.close(), () => {});
      session = undefined;
    },
  };
}
