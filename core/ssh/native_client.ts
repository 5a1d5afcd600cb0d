/**
 * The client side of the native data path (ALPN `alknet/tcp`): open a
 * stream to the node, send the header (token, target host and port), wait
 * for the status byte, and hand back the stream carrying the target's bytes.
 * Streams come from an opener: one TLS connection per forward, or one
 * stream per forward on a shared QUIC or iroh connection.
 *
 * @module
 */

import { type ByteConn, closeQuietly, writeAll } from "../transport/stream.ts";
import {
  encodeNativeTcpHeader,
  NATIVE_TCP_ALPN,
  NativeTcpError,
  NativeTcpStatus,
  nativeTcpStatusName,
} from "../transport/native_header.ts";
import { STEALTH_CLIENT_ALPNS } from "../transport/stealth_preamble.ts";
import type { DialOptions } from "../transport/dial_options.ts";
import { dialTls } from "../transport/dial_tls.ts";
import { dialQuic } from "../transport/dial_quic.ts";
import { dialIrohSession, type IrohDialOptions } from "../transport/iroh_dial.ts";
import type { IrohUrl } from "../transport/iroh_url.ts";
import { lostStatus, readStatus } from "./native_status.ts";

/**
 * Opens a fresh byte stream to the node's `alknet/tcp` service.
 *
 * @example
 * ```ts
 * import type { NativeStreamOpener } from "@alknet/core/ssh";
 * import { dialTls } from "@alknet/core/transport";
 * const open: NativeStreamOpener = () => dialTls("127.0.0.1", 443, { alpn: ["alknet/tcp"] });
 * console.log(typeof open); // "function"
 * ```
 */
export type NativeStreamOpener = () => Promise<ByteConn>;

/**
 * The node answered the header with something that is not a status byte
 * (a web page): it has no such service there, or, in stealth mode, it did
 * not accept the token. `status` is `unreachable`.
 *
 * @example
 * ```ts
 * import { NotNativeServiceError } from "@alknet/core/ssh";
 * import { NativeTcpError } from "@alknet/core/transport";
 * const e = new NotNativeServiceError();
 * console.log(e instanceof NativeTcpError, e.status); // true unreachable
 * ```
 */
export class NotNativeServiceError extends NativeTcpError {
  /** Creates the error. */
  constructor() {
    super(
      "unreachable",
      "the node answered as a web server: no such service there, or the token was not accepted",
    );
    this.name = "NotNativeServiceError";
  }
}

/**
 * The error a native-path status byte stands for (undefined for ok), as
 * {@link openNativeTcp} throws it: a byte past the known statuses means the
 * peer is not a native service.
 *
 * @example
 * ```ts
 * import { statusError } from "@alknet/core/ssh";
 * console.log(statusError(0)); // undefined
 * console.log(statusError(1)?.status); // "forbidden"
 * ```
 */
export function statusError(status: number): NativeTcpError | undefined {
  if (status > NativeTcpStatus.TIMEOUT) return new NotNativeServiceError();
  const refused = nativeTcpStatusName(status);
  return refused ? new NativeTcpError(refused) : undefined;
}

/**
 * Opens a stream with `open`, sends the header and waits (up to
 * `timeoutMs`, default 10 s) for the status; resolves to the stream
 * carrying the target's bytes.
 *
 * @throws {NativeTcpError} when the server refuses (`status` names why)
 * @example
 * ```ts
 * import { nativeTcpOverTls, openNativeTcp } from "@alknet/core/ssh";
 * const open = nativeTcpOverTls("127.0.0.1", 1, { insecure: true, timeoutMs: 500 });
 * const conn = await openNativeTcp(open, "token", "db.internal", 5432).catch((e) => e.code);
 * console.log(conn); // "dial"
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
  try {
    await writeAll(conn, header);
    const status = await readStatus(conn, timeoutMs);
    if (typeof status !== "number") throw lostStatus(status);
    const refused = statusError(status);
    if (refused) throw refused;
    return conn;
  } catch (e) {
    closeQuietly(conn);
    throw e;
  }
}

/**
 * A {@link NativeStreamOpener} that opens one TLS connection (ALPN
 * `alknet/tcp`) per forward.
 *
 * @example
 * ```ts
 * import { nativeTcpOverTls } from "@alknet/core/ssh";
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
 * A {@link NativeStreamOpener} that opens one TLS connection per forward
 * the way a stealth client does: offering only `h2`/`http/1.1`, the header
 * then being the connection's first bytes. Works with nodes in stealth mode
 * and without.
 *
 * @example
 * ```ts
 * import { nativeTcpOverStealthTls } from "@alknet/core/ssh";
 * const open = nativeTcpOverStealthTls("127.0.0.1", 443, { insecure: true });
 * console.log(typeof open); // "function"
 * ```
 */
export function nativeTcpOverStealthTls(
  host: string,
  port: number,
  options: DialOptions = {},
): NativeStreamOpener {
  return () => dialTls(host, port, { ...options, alpn: [...STEALTH_CLIENT_ALPNS] });
}

/**
 * A connection that carries many streams (QUIC, iroh).
 *
 * @example
 * ```ts
 * import type { StreamSession } from "@alknet/core/ssh";
 * const none: StreamSession = {
 *   openStream: () => Promise.reject(new Error("offline")),
 *   close() {},
 *   closed: Promise.resolve(),
 * };
 * console.log(typeof none.openStream); // "function"
 * ```
 */
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
 * import { sharedSessionOpener } from "@alknet/core/ssh";
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

/**
 * A {@link NativeStreamOpener} that opens one stream per forward on a QUIC
 * connection with ALPN `alknet/tcp`, (re)connecting lazily.
 *
 * @example
 * ```ts
 * import { nativeTcpOverQuic } from "@alknet/core/ssh";
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

/**
 * A {@link NativeStreamOpener} that opens one stream per forward on an iroh
 * connection with ALPN `alknet/tcp`, (re)connecting lazily.
 *
 * @example
 * ```ts
 * import { nativeTcpOverIroh } from "@alknet/core/ssh";
 * const q = nativeTcpOverIroh(`iroh://${"ab".repeat(32)}@127.0.0.1:4433?relay=off`);
 * // const conn = await openNativeTcp(q.open, token, "db", 5432);
 * q.close();
 * ```
 */
export function nativeTcpOverIroh(
  url: string | IrohUrl,
  options: IrohDialOptions = {},
): { open: NativeStreamOpener; close(): void } {
  return sharedSessionOpener(() => dialIrohSession(url, { ...options, alpn: NATIVE_TCP_ALPN }));
}
