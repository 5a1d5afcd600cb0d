/**
 * The `quic://` client dialer (`Deno.connectQuic`). QUIC always verifies;
 * `caFile`/`caCerts` add trust, and a pin (or `insecure`) fetches the
 * certificate over TLS on the same host and TCP port (the usual `tls://` +
 * `quic://` on 443 setup) and then trusts it for QUIC. QUIC cannot go
 * through a proxy.
 *
 * @module
 */

import type { ByteConn } from "./stream.ts";
import { quicStreamConn } from "./conn.ts";
import { DialError } from "./tcp.ts";
import { PinMismatchError, TransportUrlError } from "./errors.ts";
import { ALPN_SSH, HTTP_ALPNS } from "./alpn.ts";
import { hostPort } from "./hostport.ts";
import { DEFAULT_DIAL_TIMEOUT_MS, dialDeadline, type DialOptions } from "./dial_options.ts";
import { caList, fetchServerCertificate, verificationName } from "./tls_trust.ts";

/**
 * A QUIC connection to a node, from which streams are opened.
 *
 * @example
 * ```ts
 * import { dialQuic, type QuicSession } from "@alknet/core/transport";
 * const s: QuicSession | null = await dialQuic("127.0.0.1", 1, { timeoutMs: 500 }).catch(() => null);
 * console.log(s?.alpn ?? "not connected");
 * s?.close();
 * ```
 */
export interface QuicSession {
  /** The underlying connection. */
  readonly conn: Deno.QuicConn;
  /** The negotiated ALPN. */
  readonly alpn: string;
  /** Opens a bidirectional stream as a {@link ByteConn}. */
  openStream(): Promise<ByteConn>;
  /** Closes the connection and every stream. */
  close(): void;
}

/**
 * Opens a QUIC connection (ALPN `options.alpn`, default `alknet/ssh`).
 *
 * @throws {TransportUrlError} when a proxy is configured (QUIC is UDP)
 * @throws {DialError} when the node cannot be reached in time
 * @example
 * ```ts
 * import { dialQuic } from "@alknet/core/transport";
 * const s = await dialQuic("127.0.0.1", 1, { alpn: ["alknet/tcp"], timeoutMs: 500 })
 *   .catch(() => null);
 * s?.close();
 * ```
 */
export async function dialQuic(
  host: string,
  port: number,
  options: DialOptions = {},
): Promise<QuicSession> {
  const shown = `quic://${hostPort(host, port)}`;
  if (options.proxy) {
    throw new TransportUrlError(shown, "QUIC cannot go through a TCP proxy");
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS;
  let caCerts = await caList(options);
  let serverName = options.serverName;
  if (options.fingerprint || options.insecure) {
    let cert;
    try {
      cert = await fetchServerCertificate(host, port, { ...options, alpn: [...HTTP_ALPNS] });
    } catch (e) {
      if (e instanceof PinMismatchError) throw e;
      throw new TransportUrlError(
        shown,
        `a pinned or insecure QUIC connection reads the certificate over TLS on the same port, ` +
          `which failed (${(e as Error).message}); give caFile instead`,
      );
    }
    caCerts = [...(caCerts ?? []), cert.pem];
    serverName = verificationName(options.serverName ?? host, cert.names);
  }
  const alpn = options.alpn ?? [ALPN_SSH];
  const conn = await dialDeadline(
    Deno.connectQuic<false>({
      hostname: host,
      port,
      serverName,
      alpnProtocols: alpn,
      caCerts,
      keepAliveInterval: options.quicKeepAliveMs ?? 15_000,
      maxIdleTimeout: 60_000,
    }),
    timeoutMs,
    "QUIC handshake",
    (c) => c.close(),
  ).catch((e) => {
    if (e instanceof DialError) throw e;
    throw new DialError("unreachable");
  });
  let closed = false;
  return {
    conn,
    alpn: conn.protocol ?? alpn[0],
    async openStream() {
      const s = await conn.createBidirectionalStream();
      return quicStreamConn(s);
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        conn.close();
      } catch { /* closed */ }
    },
  };
}

/**
 * Opens a QUIC connection and returns its first bidirectional stream; closing
 * the stream closes the connection (how SSH rides QUIC).
 *
 * @example
 * ```ts
 * import { dialQuicStream } from "@alknet/core/transport";
 * const conn = await dialQuicStream("127.0.0.1", 1, { timeoutMs: 500 }).catch(() => null);
 * conn?.close();
 * ```
 */
export async function dialQuicStream(
  host: string,
  port: number,
  options: DialOptions = {},
): Promise<ByteConn> {
  const session = await dialQuic(host, port, options);
  const s = await session.conn.createBidirectionalStream().catch((e) => {
    session.close();
    throw e;
  });
  return quicStreamConn(s, () => session.close());
}
