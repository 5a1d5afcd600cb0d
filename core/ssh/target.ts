/**
 * Where an SSH session to a node runs: a target URL (`HOST:PORT`,
 * `[v6]:PORT`, `ssh://`, `tcp://`, `tls://`, `quic://`, `ws://`, `wss://`,
 * `iroh://NODEID[@HOST:PORT][?relay=off]`) parsed into a {@link SshTarget},
 * and the dialer that opens the byte stream SSH runs on, with the SSH ALPN,
 * TLS trust (CA, pinned certificate, SNI, insecure) and an upstream proxy.
 *
 * @module
 */

import {
  parseProxyUrl,
  parseTransportUrl,
  type ProxyUrl,
  type TransportScheme,
} from "../transport/url.ts";
import { type DialOptions, transportDialer } from "../transport/dial.ts";
import { TransportUrlError } from "../transport/errors.ts";
import { OptionError } from "../util/errors.ts";
import { mintToken } from "../auth/token.ts";
import { ALPN_SSH } from "../transport/alpn.ts";
import type { ByteConn } from "../transport/stream.ts";
import { hostPort } from "../transport/hostport.ts";
import { dialIroh } from "../transport/iroh_dial.ts";
import { dialTls } from "../transport/dial_tls.ts";
import { dialWebSocket } from "../transport/dial_ws.ts";
import { WS_SSH_PATH } from "../transport/url.ts";
import { PREAMBLE_SSH_HOST, STEALTH_CLIENT_ALPNS } from "../transport/stealth_preamble.ts";
import { openNativeTcp } from "./native_client.ts";
import { type IrohUrl, parseIrohUrl } from "../transport/iroh_url.ts";

/**
 * A transport scheme a node can be reached on.
 *
 * @example
 * ```ts
 * import type { SshTargetScheme } from "@alknet/core/ssh";
 * const s: SshTargetScheme = "iroh";
 * console.log(s);
 * ```
 */
export type SshTargetScheme = TransportScheme | "iroh";

/**
 * A parsed node address.
 *
 * @example
 * ```ts
 * import { parseSshTarget, type SshTarget } from "@alknet/core/ssh";
 * const t: SshTarget = parseSshTarget("quic://[::1]:4433");
 * console.log(t.scheme, t.host, t.port); // quic ::1 4433
 * ```
 */
export interface SshTarget {
  /** The transport (`tcp` for `HOST:PORT` and `ssh://`). */
  scheme: SshTargetScheme;
  /**
   * Host name or IP literal (IPv6 without brackets); for `iroh://` the node
   * id, under which the host key is remembered.
   */
  host: string;
  /** Port (22 for `iroh://`, which has none). */
  port: number;
  /** WebSocket path for `ws://`/`wss://`. */
  path?: string;
  /** The parsed `iroh://` URL. */
  iroh?: IrohUrl;
  /** The target as a URL, for messages and logs. */
  url: string;
}

/**
 * The client side of an SSH transport: opens the byte stream the SSH session
 * runs on.
 *
 * @example
 * ```ts
 * import type { SshDialer } from "@alknet/core/ssh";
 * const dial: SshDialer = (host, port) => Deno.connect({ hostname: host, port });
 * console.log(typeof dial); // "function"
 * ```
 */
export type SshDialer = (host: string, port: number) => Promise<ByteConn>;

/**
 * How the transport under SSH is set up. The TLS options apply to `tls://`,
 * `quic://` and `wss://` targets; `proxy` to `tcp`, `tls`, `ws` and `wss`.
 *
 * @example
 * ```ts
 * import type { SshTransportOptions } from "@alknet/core/ssh";
 * const o: SshTransportOptions = { tlsFingerprint: "SHA256:" + "ab".repeat(32) };
 * console.log(Object.keys(o)); // ["tlsFingerprint"]
 * ```
 */
export interface SshTransportOptions {
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
  proxy?: string | ProxyUrl;
  /** Deadline for connecting, proxy and TLS handshake (default 10 000 ms). */
  timeoutMs?: number;
  /**
   * A signed token or API key to open with, so that a node in stealth mode
   * lets the connection through (harmless otherwise): over `tls://` the
   * client offers only `h2`/`http/1.1` and sends the preamble (the native
   * header naming `alknet-ssh`) before SSH; over `ws://`/`wss://` it goes
   * in the upgrade as `Authorization: Bearer`. A function is asked at every
   * dial (tokens live 300 s). `connect()` mints one from its Ed25519 key.
   */
  token?: string | (() => string);
}

/**
 * Parses a node address. `ssh://` and a bare `HOST:PORT` mean SSH over TCP;
 * `{ host, port }` is taken as it is.
 *
 * @throws {TransportUrlError} for an unknown scheme, a bad address or port 0
 * @example
 * ```ts
 * import { parseSshTarget } from "@alknet/core/ssh";
 * console.log(parseSshTarget("ssh://127.0.0.1:2222").scheme); // "tcp"
 * console.log(parseSshTarget("wss://node.example:443").path); // "/alknet/ssh"
 * console.log(parseSshTarget(`iroh://${"ab".repeat(32)}`).port); // 22
 * ```
 */
export function parseSshTarget(target: string | { host: string; port: number }): SshTarget {
  if (typeof target !== "string") {
    const url = hostPort(target.host, target.port);
    if (target.port <= 0) throw new TransportUrlError(url, "port 0 is not a server port");
    return { scheme: "tcp", host: target.host, port: target.port, url };
  }
  if (/^iroh:\/\//i.test(target)) {
    const iroh = parseIrohUrl(target);
    if (!iroh.nodeId) throw new TransportUrlError(target, "the node id is missing (iroh://NODEID)");
    if (!iroh.relay && iroh.host === undefined) {
      throw new TransportUrlError(target, "relay=off needs a direct address (NODEID@HOST:PORT)");
    }
    // Host keys are remembered under the node id (port 22: no [brackets]).
    return { scheme: "iroh", host: iroh.nodeId, port: 22, iroh, url: target };
  }
  const text = target.replace(/^ssh:\/\//i, "tcp://");
  const u = parseTransportUrl(text);
  if (u.port === 0) throw new TransportUrlError(target, "port 0 is not a server port");
  return { ...u, url: target };
}

const TLS_OPTIONS = ["tlsFingerprint", "tlsCa", "tlsCaCerts", "tlsServerName", "insecure"] as const;

/**
 * Checks that the transport options fit the target's scheme.
 *
 * @throws {OptionError} naming the first option that does not apply
 * @example
 * ```ts
 * import { checkTransportOptions, parseSshTarget } from "@alknet/core/ssh";
 * try {
 *   checkTransportOptions(parseSshTarget("127.0.0.1:2222"), { insecure: true });
 * } catch (e) {
 *   console.log((e as Error).message); // insecure: applies to tls://, quic:// and wss:// targets only
 * }
 * ```
 */
export function checkTransportOptions(target: SshTarget, options: SshTransportOptions): void {
  const tlsLike = target.scheme === "tls" || target.scheme === "quic" || target.scheme === "wss";
  if (!tlsLike) {
    const used = TLS_OPTIONS.find((k) => options[k] !== undefined && options[k] !== false);
    if (used) {
      throw new OptionError(used, "applies to tls://, quic:// and wss:// targets only");
    }
  }
  if (options.proxy && (target.scheme === "quic" || target.scheme === "iroh")) {
    throw new OptionError("proxy", `cannot carry ${target.scheme}:// (UDP)`);
  }
  if (typeof options.proxy === "string") {
    try {
      parseProxyUrl(options.proxy);
    } catch (e) {
      throw new OptionError("proxy", (e as Error).message, { cause: e });
    }
  }
  const fp = options.tlsFingerprint;
  if (fp !== undefined && !/^SHA256:[0-9a-fA-F:]{64,95}$/.test(fp)) {
    throw new OptionError("tlsFingerprint", `'${fp}' is not of the form SHA256:<64 hex digits>`);
  }
}

/**
 * The transport layer's dial options for these transport options and ALPNs.
 *
 * @example
 * ```ts
 * import { dialOptionsOf } from "@alknet/core/ssh";
 * console.log(dialOptionsOf({ insecure: true }, ["alknet/tcp"]).alpn); // ["alknet/tcp"]
 * ```
 */
export function dialOptionsOf(options: SshTransportOptions, alpn: string[]): DialOptions {
  return {
    proxy: options.proxy,
    timeoutMs: options.timeoutMs,
    alpn,
    serverName: options.tlsServerName,
    caCerts: options.tlsCaCerts,
    caFile: options.tlsCa,
    insecure: options.insecure,
    fingerprint: options.tlsFingerprint,
    wsPath: undefined,
  };
}

/**
 * The dialer that opens the byte stream an SSH session to `target` runs
 * on: TCP (directly or through the proxy), TLS or QUIC offering
 * `alknet/ssh`, a WebSocket at the target's path, or an iroh connection.
 *
 * @throws {OptionError} when an option does not fit the scheme
 * @example
 * ```ts
 * import { parseSshTarget, sshDialer } from "@alknet/core/ssh";
 * const target = parseSshTarget("tls://127.0.0.1:443");
 * const dial = sshDialer(target, { tlsFingerprint: "SHA256:" + "ab".repeat(32) });
 * console.log(typeof dial); // "function"
 * ```
 */
export function sshDialer(target: SshTarget, options: SshTransportOptions = {}): SshDialer {
  checkTransportOptions(target, options);
  if (target.scheme === "iroh") {
    const iroh = target.iroh!;
    return () => dialIroh(iroh, { alpn: ALPN_SSH, timeoutMs: options.timeoutMs ?? 10_000 });
  }
  const token = options.token;
  if (token !== undefined) {
    const tokenNow = typeof token === "function" ? token : () => token;
    if (target.scheme === "tls") {
      const dial = dialOptionsOf(options, [...STEALTH_CLIENT_ALPNS]);
      return (host, port) =>
        openNativeTcp(
          () => dialTls(host, port, dial),
          tokenNow(),
          PREAMBLE_SSH_HOST,
          22,
          options.timeoutMs,
        );
    }
    if (target.scheme === "ws" || target.scheme === "wss") {
      const scheme = target.scheme;
      return (host, port) =>
        dialWebSocket({ scheme, host, port, path: target.path ?? WS_SSH_PATH }, {
          ...dialOptionsOf(options, [ALPN_SSH]),
          wsPath: target.path,
          headers: { authorization: `Bearer ${tokenNow()}` },
        });
    }
  }
  return transportDialer(target.scheme, {
    ...dialOptionsOf(options, [ALPN_SSH]),
    wsPath: target.path,
  });
}

/**
 * A token source for {@link SshTransportOptions.token}: mints signed tokens
 * with an Ed25519 seed (a copy is kept), reusing each for 60 s.
 *
 * @example
 * ```ts
 * import { tokenMinter } from "@alknet/core/ssh";
 * const next = tokenMinter(new Uint8Array(32));
 * console.log(next().length, next() === next()); // 139 true
 * ```
 */
export function tokenMinter(seed: Uint8Array): () => string {
  const key = seed.slice();
  let last: { text: string; at: number } | undefined;
  return () => {
    const now = Math.floor(Date.now() / 1000);
    if (!last || now - last.at > 60) last = { text: mintToken(key, now), at: now };
    return last.text;
  };
}
