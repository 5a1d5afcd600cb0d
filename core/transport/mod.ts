/**
 * Transports that get through and go fast: the ALPN-dispatching endpoint
 * (`tcp://`, `tls://`, `quic://`, `ws://`, `wss://`) with a stealth decoy
 * site, certificates (PEM files, a self-signed certificate in the data
 * directory, `SHA256:` fingerprints for pinning), client dialers for every
 * transport with SOCKS5 / HTTP CONNECT proxy chaining, a proxying egress
 * dialer for the server, the native `alknet/tcp` data path, and the optional
 * peer-to-peer `iroh://` transport (its native binding loaded only when used).
 *
 * @example
 * ```ts
 * import { listenEndpoint } from "./mod.ts";
 * const ep = await listenEndpoint("tcp://127.0.0.1:0", {
 *   handlers: { ssh: (conn) => conn.close() },
 *   stealth: true,
 * });
 * await ep.close();
 * ```
 *
 * @module
 */

export * from "./errors.ts";
export * from "./url.ts";
export * from "./conn.ts";
export * from "./certs.ts";
export * from "./decoy.ts";
export * from "./alpn.ts";
export * from "./endpoint_types.ts";
export * from "./endpoint.ts";
export * from "./proxy.ts";
export * from "./dial.ts";
export * from "./acme.ts";
export * from "./stream.ts";
export * from "./tcp.ts";
export * from "./peek.ts";
export * from "./socks5_client.ts";
export * from "./hostport.ts";
export * from "./addr.ts";
export * from "./limits.ts";
export * from "../util/log.ts";
export * from "../util/errors.ts";
export * from "../util/timeout.ts";
export * from "../util/bytes.ts";
