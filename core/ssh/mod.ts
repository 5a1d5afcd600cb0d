/**
 * SSH server and client, SOCKS5, forwards and the native data path.
 *
 * @module
 */

export * from "./socks5.ts";
export * from "./forward_spec.ts";
export * from "./algorithms.ts";
export * from "./server.ts";
export * from "./known_hosts.ts";
export * from "./client.ts";
export * from "./target.ts";
export * from "./reserved.ts";
export * from "./direct_path.ts";
export * from "./native_server.ts";
export * from "./native_client.ts";
