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

export * from "./transport/mod.ts";
export * from "./auth/mod.ts";
export * from "./ssh/mod.ts";
export * from "./node/serve.ts";
export * from "./node/connect.ts";
export * from "./config/mod.ts";
export * from "./util/log.ts";
export * from "./util/fs_errors.ts";
export * from "./util/errors.ts";
