/**
 * `@alknet/core` — the tunnel layer of alknet: transports, the SSH server and
 * client, SOCKS5, OpenSSH-style forwards, authentication, forwarding policy,
 * configuration and logging.
 *
 * @example
 * ```ts
 * import type { Identity } from "@alknet/core";
 * const who: Identity = { id: "SHA256:abc", scopes: ["relay:connect"], resources: {} };
 * ```
 *
 * @module
 */

export * from "./identity.ts";
export * from "./ssh_keys.ts";
export * from "./auth/mod.ts";
export * from "./policy.ts";
export * from "./log.ts";
export * from "./stream.ts";
export * from "./dial.ts";
export * from "./peek.ts";
export * from "./socks5.ts";
export * from "./forward_spec.ts";
export * from "./ssh_algorithms.ts";
export * from "./ssh_server.ts";
export * from "./serve.ts";
export * from "./known_hosts.ts";
export * from "./ssh_client.ts";
export * from "./tunnel.ts";
export * from "./socks5_client.ts";
export * from "./limits.ts";
export * from "./config/mod.ts";
export * from "./transport/mod.ts";
export * from "./direct_path.ts";
export * from "./fs_errors.ts";
