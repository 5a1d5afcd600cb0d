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

/**
 * The node: `serve()`, `connect()`, their options and handles, keys, errors.
 *
 * @example
 * ```ts
 * import { core } from "@alknet/cli/mod";
 * console.log(typeof core.serve); // "function"
 * ```
 */
export * as core from "@alknet/core";
/**
 * Bytes between machines: dial and listen by URL, ALPN, TLS, QUIC, WebSocket, iroh, proxies.
 *
 * @example
 * ```ts
 * import { transport } from "@alknet/cli/mod";
 * console.log(typeof transport.listenEndpoint); // "function"
 * ```
 */
export * as transport from "@alknet/core/transport";
/**
 * Keys, certificates, tokens, API keys, identity and the forwarding policy.
 *
 * @example
 * ```ts
 * import { auth } from "@alknet/cli/mod";
 * console.log(typeof auth.parsePrivateKey); // "function"
 * ```
 */
export * as auth from "@alknet/core/auth";
/**
 * The SSH server and client, SOCKS5, forwards and the native data path.
 *
 * @example
 * ```ts
 * import { ssh } from "@alknet/cli/mod";
 * console.log(typeof ssh.SshServer); // "function"
 * ```
 */
export * as ssh from "@alknet/core/ssh";
/**
 * Configuration: TOML, environment, reload.
 *
 * @example
 * ```ts
 * import { config } from "@alknet/cli/mod";
 * console.log(typeof config.loadConfig); // "function"
 * ```
 */
export * as config from "@alknet/core/config";
/**
 * The call protocol.
 *
 * @example
 * ```ts
 * import { call } from "@alknet/cli/mod";
 * console.log(typeof call.connectCall); // "function"
 * ```
 */
export * as call from "@alknet/call";
/**
 * Mnemonic-backed keys and AES-256-GCM secrets.
 *
 * @example
 * ```ts
 * import { vault } from "@alknet/cli/mod";
 * console.log(typeof vault.Vault); // "function"
 * ```
 */
export * as vault from "@alknet/vault";
/**
 * Storage: SQLite or PostgreSQL behind one API.
 *
 * @example
 * ```ts
 * import { storage } from "@alknet/cli/mod";
 * console.log(typeof storage.openStore); // "function"
 * ```
 */
export * as storage from "@alknet/storage";
/**
 * Graphs: the operation graph, the call graph and their pictures.
 *
 * @example
 * ```ts
 * import { flowgraph } from "@alknet/cli/mod";
 * console.log(typeof flowgraph.buildOperationGraph); // "function"
 * ```
 */
export * as flowgraph from "@alknet/flowgraph";
