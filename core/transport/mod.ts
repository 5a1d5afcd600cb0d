/**
 * `@alknet/core/transport` — bytes between machines: listen on and dial
 * transport URLs (`tcp://`, `tls://`, `quic://`, `ws://`, `wss://`,
 * `iroh://`), the ALPN dispatch of an endpoint (with the stealth decoy
 * site), certificates (PEM, self-signed in a data directory, ACME, the
 * `SHA256:` fingerprints clients pin), SOCKS5 and HTTP CONNECT proxies, the
 * native `alknet/tcp` header codec, `host:port` and IP address helpers,
 * connection limits, and the shared helpers (logging, the `CoreError` base,
 * timeouts, hex and base64).
 *
 * @example Listen on a URL, dial it with the certificate pinned
 * ```ts
 * import { listenEndpoint, selfSignedCertificate, transportDialer } from "@alknet/core/transport";
 *
 * const dir = await Deno.makeTempDir();
 * const { cert, key, fingerprint } = await selfSignedCertificate(dir);
 * const ep = await listenEndpoint("tls://127.0.0.1:0", {
 *   cert,
 *   key,
 *   handlers: { // by ALPN: ssh, call, tcp (the native path), http
 *     ssh: async (conn) => { // an echo, once
 *       const buf = new Uint8Array(64);
 *       const n = await conn.read(buf).catch(() => null);
 *       if (n) await conn.write(buf.subarray(0, n));
 *       conn.close();
 *     },
 *   },
 * });
 * const dial = transportDialer("tls", { fingerprint }); // pinned; or a CA, a proxy, ...
 * const conn = await dial("127.0.0.1", ep.addr.port); // offers ALPN alknet/ssh
 * await conn.write(new TextEncoder().encode("hello"));
 * const buf = new Uint8Array(64);
 * const n = await conn.read(buf);
 * console.log(new TextDecoder().decode(buf.subarray(0, n ?? 0))); // "hello"
 * conn.close();
 * await ep.close();
 * await Deno.remove(dir, { recursive: true });
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
