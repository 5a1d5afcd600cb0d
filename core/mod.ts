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
