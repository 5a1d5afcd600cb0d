/**
 * `@alknet/core/ssh` — the SSH server and client (`npm:ssh2`), one
 * authenticated session by URL (`openSshSession`), `known_hosts`, SOCKS5,
 * OpenSSH-style forward specs, the reserved `alknet-*` names and the native
 * data path (`alknet/tcp`) that stands in for SSH channels over TLS, QUIC
 * and iroh. `serve()` and `connect()` in `@alknet/core` are built from
 * these.
 *
 * @example An SSH server behind a listener, and a session to it
 * ```ts
 * import { connToDuplex, listenEndpoint, Logger } from "@alknet/core/transport";
 * import {
 *   AuthorizedKeysAuthenticator,
 *   generateEd25519Key,
 *   parsePrivateKey,
 * } from "@alknet/core/auth";
 * import { openSshSession, SshServer } from "@alknet/core/ssh";
 *
 * const host = generateEd25519Key("host");
 * const me = generateEd25519Key("me");
 * const server = new SshServer({
 *   hostKeys: [parsePrivateKey(host.privateText, "host")],
 *   authenticator: AuthorizedKeysAuthenticator.fromText(me.publicLine, "inline"),
 *   policy: { evaluate: () => "allow" }, // every forward allowed
 *   logger: new Logger("text", () => {}),
 * });
 * const ep = await listenEndpoint("tcp://127.0.0.1:0", {
 *   handlers: { ssh: (conn, info) => server.handle(connToDuplex(conn), info) },
 * });
 * const session = await openSshSession(`ssh://127.0.0.1:${ep.addr.port}`, {
 *   identity: parsePrivateKey(me.privateText, "me"),
 *   hostKeyFingerprint: host.fingerprint,
 * });
 * console.log("logged in");
 * session.close();
 * await server.shutdown(0);
 * await ep.close();
 * ```
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
export * from "./node_operations.ts";
