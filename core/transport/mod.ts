/**
 * `@alknet/core/transport` — bytes between machines: listen on and dial
 * transport URLs (`tcp://`, `tls://`, `quic://`, `ws://`, `wss://`,
 * `iroh://`), the ALPN dispatch of an endpoint with a stealth decoy site,
 * certificates (PEM files, a self-signed certificate in the data directory,
 * ACME, `SHA256:` fingerprints for pinning), SOCKS5 / HTTP CONNECT proxy
 * chaining, the native `alknet/tcp` header codec, `host:port` and address
 * helpers, connection limits, and the shared helpers (logging, errors,
 * timeouts, hex and base64).
 *
 * @example
 * ```ts
 * import { listenEndpoint, parseTransportUrl } from "@alknet/core/transport";
 * const ep = await listenEndpoint("tcp://127.0.0.1:0", {
 *   handlers: { ssh: (conn) => conn.close() },
 *   stealth: true,
 * });
 * console.log(parseTransportUrl(`tls://127.0.0.1:${ep.addr.port}`).scheme); // "tls"
 * await ep.close();
 * ```
 *
 * @module
 */

export * from "./errors.ts";
export * from "./url.ts";
export * from "./hostport.ts";
export * from "./addr.ts";
export * from "./alpn.ts";
export * from "./conn.ts";
export * from "./stream.ts";
export * from "./tcp.ts";
export * from "./peek.ts";
export * from "./certs.ts";
export * from "./acme.ts";
export * from "./decoy.ts";
export * from "./decoy_http.ts";
export * from "./decoy_response.ts";
export * from "./decoy_server.ts";
export * from "./stealth_preamble.ts";
export * from "./stealth_hello.ts";
export * from "./stealth_upstream.ts";
export * from "./endpoint_types.ts";
export { listenEndpoint } from "./endpoint.ts";
export * from "./proxy.ts";
export * from "./socks5_client.ts";
export { type DialOptions, dialTcpVia } from "./dial_options.ts";
export { fetchServerCertificate, type ServerCertificate } from "./tls_trust.ts";
export * from "./dial_tls.ts";
export * from "./dial_quic.ts";
export * from "./dial_ws.ts";
export { transportDialer } from "./dial.ts";
export * from "./native_header.ts";
export * from "./iroh_url.ts";
export { IROH_PACKAGES, IROH_VERSION, loadIroh } from "./iroh_binding.ts";
export * from "./iroh_listen.ts";
export * from "./iroh_dial.ts";
export * from "./iroh_key.ts";
export * from "./limits.ts";
export * from "./accept_loop.ts";
export * from "../util/log.ts";
export * from "../util/errors.ts";
export * from "../util/fs_errors.ts";
export * from "../util/timeout.ts";
export * from "../util/bytes.ts";
