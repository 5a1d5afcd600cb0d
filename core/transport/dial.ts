/**
 * Client transports by scheme: {@link transportDialer} picks the dialer for
 * `tcp://`, `tls://`, `quic://`, `ws://` or `wss://` (each in its own
 * module: `dial_options.ts` for TCP and proxies, `dial_tls.ts`,
 * `dial_quic.ts`, `dial_ws.ts`; TLS trust in `tls_trust.ts`), optionally
 * through an upstream SOCKS5 / HTTP CONNECT proxy (tcp, tls, ws, wss; host
 * names unresolved).
 *
 * @module
 */

import type { ByteConn } from "./stream.ts";
import { TransportUrlError } from "./errors.ts";
import { parseProxyUrl, type TransportScheme, WS_SSH_PATH } from "./url.ts";
import { type DialOptions, dialTcpVia } from "./dial_options.ts";
import { dialTls } from "./dial_tls.ts";
import { dialQuicStream } from "./dial_quic.ts";
import { dialWebSocket } from "./dial_ws.ts";

export type { DialOptions } from "./dial_options.ts";

/**
 * The dialer for a scheme, in the shape `connectSsh({ dial })` takes: it
 * opens `scheme://host:port` with `options` and returns the byte stream the
 * SSH session runs on.
 *
 * @throws {TransportUrlError} for a malformed proxy URL, or a proxy with `quic`
 * @example
 * ```ts
 * import { parseTransportUrl, transportDialer } from "@alknet/core/transport";
 * const u = parseTransportUrl("tls://127.0.0.1:443");
 * const dial = transportDialer(u.scheme, { fingerprint: "SHA256:" + "0".repeat(64) });
 * // await connectSsh({ host: u.host, port: u.port, dial, ... });
 * console.log(typeof dial); // "function"
 * ```
 */
export function transportDialer(
  scheme: TransportScheme,
  options: DialOptions = {},
): (host: string, port: number) => Promise<ByteConn> {
  if (options.proxy && typeof options.proxy === "string") parseProxyUrl(options.proxy);
  switch (scheme) {
    case "tcp":
      return (host, port) => dialTcpVia(host, port, options);
    case "tls":
      return (host, port) => dialTls(host, port, options);
    case "quic":
      if (options.proxy) {
        throw new TransportUrlError("quic://", "QUIC cannot go through a TCP proxy");
      }
      return (host, port) => dialQuicStream(host, port, options);
    case "ws":
    case "wss":
      return (host, port) =>
        dialWebSocket({ scheme, host, port, path: options.wsPath ?? WS_SSH_PATH }, options);
  }
}
