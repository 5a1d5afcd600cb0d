/**
 * alknet — private, censorship-resistant connectivity between your machines:
 * SSH tunnels over pluggable transports, a typed call protocol, a
 * mnemonic-backed vault, storage and graphs. This umbrella module re-exports
 * every layer as a namespace: `core` (the node: `serve`, `connect`), core's
 * layers `transport`, `auth`, `ssh` and `config`, then `call`, `vault`,
 * `storage` and `flowgraph`.
 *
 * @example
 * ```ts
 * import { auth, core, vault } from "@alknet/cli/mod";
 * console.log(typeof core.serve, typeof auth.generateEd25519Key, typeof vault);
 * ```
 *
 * @module
 */

/** The node: `serve()`, `connect()`, their options and handles, keys, errors. */
export * as core from "@alknet/core";
/** Bytes between machines: dial and listen by URL, ALPN, TLS, QUIC, WebSocket, iroh, proxies. */
export * as transport from "@alknet/core/transport";
/** Keys, certificates, tokens, API keys, identity and the forwarding policy. */
export * as auth from "@alknet/core/auth";
/** The SSH server and client, SOCKS5, forwards and the native data path. */
export * as ssh from "@alknet/core/ssh";
/** Configuration: TOML, environment, reload. */
export * as config from "@alknet/core/config";
/** The call protocol. */
export * as call from "@alknet/call";
/** Mnemonic-backed keys and AES-256-GCM secrets. */
export * as vault from "@alknet/vault";
/** Storage: SQLite or PostgreSQL behind one API. */
export * as storage from "@alknet/storage";
/** Graphs: the operation graph, the call graph and their pictures. */
export * as flowgraph from "@alknet/flowgraph";
