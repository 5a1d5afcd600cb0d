/**
 * {@link connectCall}: one entry point for every client carrier, chosen by
 * the target URL's scheme, on the transport layer's dialers.
 *
 * @module
 */

import { mintToken } from "@alknet/core/auth";
import { resolveIdentity } from "@alknet/core/ssh";
import type { DialOptions } from "@alknet/core/transport";
import type { Identity } from "./access.ts";
import { type IdentityKey, openCarrier } from "./connect_carriers.ts";
import { type CallTarget, parseCallTarget } from "./connect_target.ts";
import { CallConnection, type ConnectionOptions } from "./connection.ts";
import { CallError, ConnectError, ConnectionClosedError } from "./errors.ts";

/**
 * Options of {@link connectCall}. Credentials: `identity` logs in over
 * `ssh://` and, on the other schemes, mints a signed token (Ed25519 keys);
 * `token` or `apiKey` is sent as it is. TLS trust applies to `tls://`,
 * `quic://` and `wss://`; `proxy` to every scheme but `quic://` and
 * `iroh://`.
 *
 * @example
 * ```ts
 * import type { ConnectCallOptions } from "@alknet/call";
 * const overSsh: ConnectCallOptions = { identity: "./id_alknet", hostKeyFingerprint: "SHA256:..." };
 * const overTls: ConnectCallOptions = { apiKey: "alk_...", tlsFingerprint: "SHA256:ab..." };
 * console.log(Object.keys(overSsh), Object.keys(overTls));
 * ```
 */
export interface ConnectCallOptions
  extends Omit<ConnectionOptions, "authToken" | "identity" | "authenticate" | "requireAuth"> {
  /**
   * The client key (a path to an OpenSSH private key file, or a parsed
   * key): the SSH login on `ssh://`, a fresh signed token per connection
   * elsewhere.
   */
  identity?: string | IdentityKey;
  /** A signed token, sent as it is (not on `ssh://`). */
  token?: string;
  /** An API key, sent as it is (not on `ssh://`). */
  apiKey?: string;
  /** `ssh://`: accept only this host key (`SHA256:<base64>`, as `serve` reports it). */
  hostKeyFingerprint?: string;
  /** `ssh://`: an OpenSSH known-hosts file (trust on first use); used without `hostKeyFingerprint`. */
  knownHosts?: string;
  /** `ssh://`: told when a new host key is trusted and saved to `knownHosts`. */
  onHostKeyTrusted?: (message: string) => void;
  /** `ssh://`: the user name (default `alknet`; OpenSSH servers need a real one). */
  user?: string;
  /** Accept only this server certificate (`SHA256:<hex>`, as `serve` reports it). */
  tlsFingerprint?: string;
  /** A PEM file of CA certificates to trust. */
  tlsCa?: string;
  /** CA certificates to trust (PEM text). */
  tlsCaCerts?: string[];
  /** Server name for SNI and verification (default: the host). */
  tlsServerName?: string;
  /** Accept any certificate (testing only). */
  insecure?: boolean;
  /** Reach the node through `socks5://[user:pass@]HOST:PORT` or `http://HOST:PORT`. */
  proxy?: string;
  /** Deadline for connecting, the proxy and the TLS/SSH handshake (default 10 000 ms). */
  connectTimeoutMs?: number;
  /**
   * The identity calls from the node run as on this end, when this end
   * serves a `router` (default: anonymous). A worker gives its head's.
   */
  peerIdentity?: Identity;
}

const TLS_OPTIONS = ["tlsFingerprint", "tlsCa", "tlsCaCerts", "tlsServerName", "insecure"] as const;
const SSH_OPTIONS = ["hostKeyFingerprint", "knownHosts", "onHostKeyTrusted", "user"] as const;

/** Throws `options` when an option does not fit the scheme. */
function checkOptions(target: CallTarget, options: ConnectCallOptions): void {
  const bad = (option: string, why: string) => {
    throw new ConnectError("options", target.url, why, { option });
  };
  const s = target.scheme;
  if (s !== "tls" && s !== "quic" && s !== "wss") {
    const used = TLS_OPTIONS.find((k) => options[k] !== undefined && options[k] !== false);
    if (used) bad(used, "applies to tls://, quic:// and wss:// only");
  }
  if (s !== "ssh") {
    const used = SSH_OPTIONS.find((k) => options[k] !== undefined);
    if (used) bad(used, "applies to ssh:// only");
  } else {
    if (options.identity === undefined) bad("identity", "ssh:// logs in with a key: give identity");
    if (options.token !== undefined) bad("token", "ssh:// authenticates with identity instead");
    if (options.apiKey !== undefined) bad("apiKey", "ssh:// authenticates with identity instead");
  }
  if (options.proxy !== undefined && (s === "quic" || s === "iroh")) {
    bad("proxy", `cannot carry ${s}:// (UDP)`);
  }
  const given = (["identity", "token", "apiKey"] as const).filter((k) => options[k] !== undefined);
  if (s !== "ssh" && given.length > 1) bad(given[1], `give one of identity, token or apiKey`);
}

/** The token for a non-SSH carrier: as given, or minted from the identity key. */
function tokenSource(
  target: CallTarget,
  key: IdentityKey | undefined,
  options: ConnectCallOptions,
): (() => string) | undefined {
  const fixed = options.token ?? options.apiKey;
  if (fixed !== undefined) return () => fixed;
  if (key === undefined) return undefined;
  const seed = key.seed;
  if (!seed) {
    throw new ConnectError(
      "options",
      target.url,
      `${key.type} keys cannot mint tokens; use an Ed25519 key, a token or an API key`,
      { option: "identity" },
    );
  }
  return () => mintToken(seed);
}

/**
 * Connects to a node's call service:
 *
 * - `ssh://HOST[:22]`: logs in with `identity`, verifies the host key
 *   (`hostKeyFingerprint` or `knownHosts`), opens the `alknet-control`
 *   channel;
 * - `tcp://HOST:PORT`: the framed protocol on plain TCP (trusted networks);
 * - `tls://HOST[:443]`, `quic://HOST[:443]`, `iroh://NODEID[@HOST:PORT]`:
 *   a stream with ALPN `alknet/call`;
 * - `ws://HOST[:80][/path]`, `wss://HOST[:443][/path]`: the WebSocket at
 *   `/alknet/call` (or `path`), authenticated at the upgrade.
 *
 * Off SSH, `identity` mints a signed token and `token`/`apiKey` are sent as
 * they are: in a first request sent at once (`auth_token`), or the
 * WebSocket's `Authorization: Bearer` header. Rejects with a {@link ConnectError}
 * whose `code` says why (`pin-mismatch`, `unauthorized` with the node's
 * reason, `host-key`, `transport`, ...).
 *
 * @example
 * ```ts
 * import {
 *   connectCall,
 *   OperationRegistry,
 *   registerNodeOperations,
 *   serveCallTcp,
 * } from "@alknet/call";
 * const registry = new OperationRegistry();
 * registerNodeOperations(registry, { version: "0.1.0" });
 * const server = await serveCallTcp({ registry });
 * const conn = await connectCall(server.url);
 * console.log(await conn.call("node/ping", { hello: "world" }));
 * await conn.close();
 * await server.close();
 * ```
 *
 * @example Over SSH with the identity key (a node from `serve({ calls })`)
 * ```ts
 * import { connectCall } from "@alknet/call";
 * const conn = await connectCall("ssh://127.0.0.1:1", {
 *   identity: "./id_alknet",
 *   hostKeyFingerprint: "SHA256:" + "A".repeat(43),
 * }).catch((e) => e);
 * console.log(conn.code); // "options": no key file here ("transport" if there were one)
 * ```
 */
export async function connectCall(
  url: string,
  options: ConnectCallOptions = {},
): Promise<CallConnection> {
  const target = parseCallTarget(url);
  checkOptions(target, options);
  let key: IdentityKey | undefined;
  if (options.identity !== undefined) {
    try {
      key = await resolveIdentity(options.identity);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      throw new ConnectError("options", target.url, reason, { cause: e, option: "identity" });
    }
  }
  const token = target.scheme === "ssh" ? undefined : tokenSource(target, key, options);
  const dial: DialOptions = {
    proxy: options.proxy,
    timeoutMs: options.connectTimeoutMs,
    serverName: options.tlsServerName,
    caCerts: options.tlsCaCerts,
    caFile: options.tlsCa,
    insecure: options.insecure,
    fingerprint: options.tlsFingerprint,
  };
  const ws = target.scheme === "ws" || target.scheme === "wss";
  const transport = await openCarrier(target, {
    dial,
    token: ws || target.scheme === "tls" ? token?.() : undefined,
    ssh: target.scheme === "ssh"
      ? {
        identity: key!,
        hostKeyFingerprint: options.hostKeyFingerprint,
        knownHosts: options.knownHosts,
        onHostKeyTrusted: options.onHostKeyTrusted,
        user: options.user,
      }
      : undefined,
  });
  const conn = new CallConnection(transport, {
    router: options.router,
    identity: options.peerIdentity ?? null,
    sendToken: options.sendToken,
    defaultTimeoutMs: options.defaultTimeoutMs,
    sweepIntervalMs: options.sweepIntervalMs,
    maxSubscriptionBuffer: options.maxSubscriptionBuffer,
    id: options.id,
    // WebSocket and SSH authenticate the connection itself.
    authToken: ws ? undefined : token,
  });
  if (token !== undefined && !ws) await authenticateNow(conn, target.url, options.connectTimeoutMs);
  return conn;
}

/**
 * Off SSH and WebSocket the token travels in a request: one is sent at
 * once (`services/list-peers`, which every registry has unless discovery is
 * off), so that a bad token rejects here as `unauthorized` and the node
 * counts the connection as authenticated from the start (a node closes a
 * call connection that has not authenticated within its pre-auth deadline,
 * 30 s by default: a client that waited longer before its first call lost
 * its connection). Any answer but a failed authentication means the token
 * was accepted (NOT_FOUND where discovery is off, FORBIDDEN by the
 * operation's own access).
 */
async function authenticateNow(
  conn: CallConnection,
  url: string,
  timeoutMs = 15_000,
): Promise<void> {
  try {
    await conn.call("services/list-peers", null, { timeoutMs });
  } catch (e) {
    const failed = e instanceof CallError && e.code === "FORBIDDEN" &&
      (e.details as { authentication?: unknown } | undefined)?.authentication === "failed";
    const lost = e instanceof ConnectionClosedError ||
      (e instanceof CallError && e.code === "TIMEOUT") || !(e instanceof CallError);
    if (!failed && !lost) return;
    await conn.close().catch(() => {});
    const reason = e instanceof Error ? e.message : String(e);
    throw new ConnectError(failed ? "unauthorized" : "transport", url, reason, { cause: e });
  }
}
