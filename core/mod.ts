/**
 * `@alknet/core` — the alknet node as a library. `serve(options)` runs a
 * whole node (SSH over `tcp://`, `tls://`, `quic://`, `ws://`, `wss://` and
 * `iroh://` listeners, TLS from PEM, self-signed or ACME, stealth, the
 * native data path, policy, limits, a call registry served on every
 * carrier, reload and shutdown); `connect(target, options)` is the client
 * side by URL (a SOCKS5 proxy, `-L`/`-R` forwards, streams through the
 * node). Keys, identities and the errors a caller handles are here too.
 *
 * The building blocks live in subpath exports: `@alknet/core/transport`
 * (dial and listen by URL, ALPN, TLS, QUIC, WebSocket, iroh, proxies),
 * `@alknet/core/auth` (keys, certificates, tokens, API keys, identity,
 * policy), `@alknet/core/ssh` (the SSH server and client, SOCKS5, forwards,
 * the native data path) and `@alknet/core/config` (TOML, environment,
 * reload).
 *
 * @example A node and a client that connects to it
 * ```ts
 * import { connect, generateEd25519Key, parsePrivateKey, serve } from "@alknet/core";
 *
 * const dir = await Deno.makeTempDir();
 * const host = generateEd25519Key("host");
 * const me = generateEd25519Key("me");
 * await Deno.writeTextFile(`${dir}/authorized_keys`, me.publicLine + "\n");
 *
 * const node = await serve({
 *   listen: "127.0.0.1:0", // or tls://, quic://, ws://, wss://, iroh:// (a list serves several)
 *   hostKey: host.privateText, // a path, OpenSSH key text or a parsed key
 *   authorizedKeys: `${dir}/authorized_keys`,
 *   logger: false,
 * });
 * const tunnel = await connect(node.addresses[0], { // "ssh://127.0.0.1:PORT"
 *   identity: parsePrivateKey(me.privateText, "me"), // or a path
 *   hostKeyFingerprint: node.hostKeyFingerprint,
 *   logger: false,
 * });
 * console.log(tunnel.state); // "connected"
 * await tunnel.close();
 * await node.shutdown(0);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

export { type NodeReloadResult, type NodeServer, serve } from "./node/serve.ts";
export type {
  AuthorizedKeysOption,
  IdentityChange,
  PemSource,
  PolicyOption,
  ServeAcmeOptions,
  ServeOptions,
  ServeReloadOptions,
  ServeTlsOptions,
  WatchedIdentityProvider,
} from "./node/serve_options.ts";
export type { Listening } from "./node/serve_listeners.ts";
export type { ServeWorkerOfOptions } from "./node/serve_mesh.ts";
export { connect, type Tunnel } from "./node/connect.ts";
export type {
  ConnectOptions,
  ConnectState,
  ConnectStateEvent,
  ConnectWorkerOptions,
} from "./node/connect_options.ts";
export type { WorkerStatus } from "./node/connect_worker.ts";
export type {
  CallPeer,
  CallService,
  CallSession,
  NodeOperationDefinition,
  WorkerLinkOptions,
  WorkerLinkSession,
} from "./node/call_service.ts";
export type { LogFunction, LoggerOption, LogRecord, NodeAuditEvent } from "./node/serve_log.ts";
export { Logger } from "./util/log.ts";
export {
  fingerprint,
  generateEd25519Key,
  parsePrivateKey,
  type PrivateKey,
  readPrivateKeyFile,
} from "./auth/ssh_keys.ts";
export type { Identity, IdentityProvider } from "./auth/identity.ts";
export { CoreError, type CoreErrorCode, OptionError } from "./util/errors.ts";
export { DialError } from "./transport/tcp.ts";
export { PinMismatchError } from "./transport/errors.ts";
export { HostKeyError } from "./ssh/known_hosts.ts";
export { ChannelOpenError, SshConnectError } from "./ssh/client.ts";
