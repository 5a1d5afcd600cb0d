/**
 * alknet — private, censorship-resistant connectivity between your machines:
 * SSH tunnels over pluggable transports, a typed call protocol, a
 * mnemonic-backed vault, storage and graphs. This umbrella module re-exports
 * every layer.
 *
 * @example
 * ```ts
 * import { core, vault } from "@alknet/cli/mod";
 * console.log(typeof core, typeof vault);
 * ```
 *
 * @module
 */

/** The tunnel layer: transports, SSH, SOCKS5, forwards, auth, policy, logs. */
export * as core from "@alknet/core";
/** The call protocol. */
export * as call from "@alknet/call";
/** Mnemonic-backed keys and AES-256-GCM secrets. */
export * as vault from "@alknet/vault";
/** Embedded SQLite storage. */
export * as storage from "@alknet/storage";
/** Graphs: operation graph and call graph. */
export * as flowgraph from "@alknet/flowgraph";
