/**
 * The `tls://` client dialer. Trust, in order:
 *
 * - `fingerprint` (pin): the certificate is fetched once over an unverified
 *   `node:tls` handshake and its `SHA256:` fingerprint compared with the pin;
 *   the real connection is then a verified `Deno.startTls` that trusts that
 *   exact certificate (`caCerts: [pem]`) under a name from its
 *   subjectAltName. (Deno's `connectTls`/`startTls` cannot skip verification
 *   or show the peer certificate, so the pin is checked this way; the
 *   verified second handshake also proves the server holds the key.)
 * - `insecure`: `node:tls` with `rejectUnauthorized: false` (no checks at all).
 * - otherwise `Deno.startTls` with the system/Mozilla roots plus
 *   `caCerts`/`caFile`, verifying `serverName` (default: the host).
 *
 * @module
 */

import type { ByteConn } from "./stream.ts";
import { tlsByteConn } from "./tls_conn.ts";
import { duplexToConn } from "./conn.ts";
import { TransportUrlError } from "./errors.ts";
import { ALPN_SSH } from "./alpn.ts";
import { hostPort } from "./hostport.ts";
import {
  DEFAULT_DIAL_TIMEOUT_MS,
  dialDeadline,
  type DialOptions,
  dialTcpVia,
} from "./dial_options.ts";
import { caList, fetchServerCertificate, nodeTls, verificationName } from "./tls_trust.ts";

/**
 * A TLS connection with the negotiated ALPN.
 *
 * @example
 * ```ts
 * import { dialTls, type TlsByteConn } from "@alknet/core/transport";
 * const c: TlsByteConn | null = await dialTls("127.0.0.1", 1, { timeoutMs: 500 }).catch(() => null);
 * console.log(c?.alpn ?? "not connected");
 * c?.close();
 * ```
 */
export interface TlsByteConn extends ByteConn {
  /** The ALPN the server chose, or null. */
  readonly alpn: string | null;
}

/**
 * Opens TLS to `host:port` (see the module notes for trust). Offers
 * `options.alpn` (default `alknet/ssh`); a server that picks a different
 * ALPN is an error, one that picks none is accepted (it peeks instead).
 *
 * @throws {PinMismatchError} when a pinned fingerprint does not match
 * @throws {DialError} or {@link ProxyError} when the connection fails
 * @example
 * ```ts
 * import { dialTls } from "@alknet/core/transport";
 * const conn = await dialTls("127.0.0.1", 1, { insecure: true, timeoutMs: 500 }).catch(() => null);
 * conn?.close();
 * ```
 */
export async function dialTls(
  host: string,
  port: number,
  options: DialOptions = {},
): Promise<TlsByteConn> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS;
  const alpn = options.alpn ?? [ALPN_SSH];
  if (options.insecure && !options.fingerprint) {
    const tcp = await dialTcpVia(host, port, options);
    const socket = await nodeTls(tcp, host, options, { rejectUnauthorized: false });
    const chosen = typeof socket.alpnProtocol === "string" ? socket.alpnProtocol : null;
    return Object.assign(duplexToConn(socket), { alpn: chosen });
  }
  let caCerts = await caList(options);
  let name = options.serverName ?? host;
  if (options.fingerprint) {
    const cert = await fetchServerCertificate(host, port, options);
    caCerts = [cert.pem];
    name = verificationName(options.serverName ?? host, cert.names);
  }
  const tcp = await dialTcpVia(host, port, options);
  let conn: Deno.TlsConn | undefined;
  let info: Deno.TlsHandshakeInfo;
  try {
    conn = await Deno.startTls(tcp, { hostname: name, caCerts, alpnProtocols: alpn });
    info = await dialDeadline(conn.handshake(), timeoutMs, "TLS handshake");
  } catch (e) {
    try {
      // startTls takes over the TCP connection; close whichever is live.
      (conn ?? tcp).close();
    } catch { /* closed */ }
    throw e;
  }
  if (info.alpnProtocol !== null && !alpn.includes(info.alpnProtocol)) {
    conn.close();
    throw new TransportUrlError(
      `tls://${hostPort(host, port)}`,
      `server chose ALPN '${info.alpnProtocol}'`,
    );
  }
  return Object.assign(tlsByteConn(conn), { alpn: info.alpnProtocol });
}
