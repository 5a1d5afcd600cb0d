/**
 * The endpoint: one listener per transport URL (`tcp://`, `tls://`,
 * `quic://`, `ws://`, `wss://`), each accepted connection handed to exactly
 * one protocol handler.
 *
 * - TLS and QUIC: the negotiated ALPN picks the handler: `alknet/ssh`,
 *   `alknet/call`, `alknet/tcp`, `h2` / `http/1.1` (HTTP). A client that
 *   offers only unknown ALPNs fails the handshake. TLS without ALPN (and plain
 *   `tcp://`) peeks the first bytes (until 8 bytes, end of stream or the peek
 *   timeout, 5 s): `SSH-` is SSH, anything else HTTP, nothing is dropped.
 * - QUIC `alknet/ssh` runs one SSH session on the connection's first
 *   bidirectional stream; `alknet/tcp` and `alknet/call` take one connection
 *   per stream.
 * - HTTP (on TLS, on peeked TCP, `ws://` and `wss://`) is served by
 *   `Deno.serve`, so HTTP/1.1 and HTTP/2 framing are Deno's: decrypted TLS
 *   bytes (and peeked plain bytes) are relayed to a private loopback
 *   `Deno.serve`, and the real peer address is looked up by the relay's
 *   local port. `ws://` relays plain bytes the same way; `wss://` is an
 *   HTTP-only TLS listener (ALPN `h2`/`http/1.1`). `GET /alknet/ssh` with a
 *   WebSocket upgrade carries SSH as binary messages; other requests go to
 *   the `http` handler, then (stealth) to the decoy site.
 * - TLS is `node:tls` (its sockets take TCP_NODELAY; `Deno.listenTls`
 *   connections cannot), every TCP socket gets NODELAY.
 * - Hostile clients: every listener caps unauthenticated connections per
 *   source address (`limiter`, `maxUnauthenticatedPerIp`), bounds the TLS
 *   handshake, the first HTTP request header and the pre-auth stage from
 *   accept, and keeps accepting through `EMFILE` and other failed accepts
 *   (logged once per burst, retried after 5 ms doubling to 1 s).
 *
 * @module
 */

import { EndpointConfigError } from "./errors.ts";
import { parseTransportUrl, type TransportUrl } from "./url.ts";
import type { Endpoint, EndpointOptions } from "./endpoint_types.ts";
import { ListenContext } from "./listen_context.ts";
import { listenTcp, listenWs } from "./listen_plain.ts";
import { listenTls } from "./listen_tls.ts";
import { listenQuic } from "./listen_quic.ts";

export type {
  ConnHandler,
  ConnInfo,
  Endpoint,
  EndpointHandlers,
  EndpointOptions,
  HttpHandler,
  TransportKind,
} from "./endpoint_types.ts";
export { ENDPOINT_ALPNS } from "./alpn.ts";

/**
 * Starts one listener. `url` is `tcp://HOST:PORT` (or `HOST:PORT`),
 * `tls://`, `quic://`, `ws://` or `wss://` (a path in ws URLs is ignored:
 * SSH is always at `/alknet/ssh`).
 *
 * @throws {EndpointConfigError} for a duplicate ALPN, an offered ALPN without a handler, or TLS without a certificate
 * @throws {TransportUrlError} for a malformed URL
 * @example
 * ```ts
 * import { listenEndpoint } from "@alknet/core/transport";
 * const ep = await listenEndpoint("tcp://127.0.0.1:0", {
 *   handlers: { ssh: (conn) => conn.close() },
 *   stealth: true,
 * });
 * console.log(ep.addr.port > 0); // true
 * await ep.close();
 * ```
 */
export function listenEndpoint(
  url: string | TransportUrl,
  options: EndpointOptions,
): Promise<Endpoint> {
  try {
    return Promise.resolve(startEndpoint(url, options));
  } catch (e) {
    return Promise.reject(e);
  }
}

function startEndpoint(url: string | TransportUrl, options: EndpointOptions): Endpoint {
  const u = typeof url === "string" ? parseTransportUrl(url) : url;
  const needCert = u.scheme === "tls" || u.scheme === "quic" || u.scheme === "wss";
  if (needCert && (!options.cert || !options.key)) {
    throw new EndpointConfigError(`${u.scheme}:// needs a certificate and key (cert, key)`);
  }
  const ctx = new ListenContext(options);
  switch (u.scheme) {
    case "tcp":
      return listenTcp(u, ctx);
    case "tls":
    case "wss":
      return listenTls(u, ctx);
    case "quic":
      return listenQuic(u, ctx);
    case "ws":
      return listenWs(u, ctx);
  }
}
