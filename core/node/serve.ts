/**
 * `serve()`: run a node's SSH endpoint on one or more TCP listeners. Each
 * accepted connection gets TCP_NODELAY, its first bytes are peeked (SSH or
 * not), and SSH connections go to one shared {@link SshServer}.
 *
 * @module
 */

import type { ForwardingPolicy, SshAuthenticator } from "../auth/identity.ts";
import type { PrivateKey } from "../auth/ssh_keys.ts";
import { Logger } from "../util/log.ts";
import { type ReservedChannelHandler, SshServer } from "../ssh/server.ts";
import { peekProtocol } from "../transport/peek.ts";
import { connToDuplex, writeAll } from "../transport/stream.ts";
import { ForwardSpecError, hostPort, parseHostPort } from "../transport/hostport.ts";
import type { Dialer } from "../transport/tcp.ts";
import type { ConnectionLimiter } from "../transport/limits.ts";
import {
  type ConnHandler,
  type Endpoint,
  type EndpointHandlers,
  type HttpHandler,
  listenEndpoint,
} from "../transport/endpoint.ts";
import { nativeTcpHandler, type NativeTcpOptions } from "../ssh/native_server.ts";
import { type IrohListener, listenIroh } from "../transport/iroh_listen.ts";

/** A parsed `--listen` value. */
export interface ListenAddress {
  /** `tcp` for SSH on plain TCP; other schemes are served by other layers. */
  scheme: string;
  /** Host or IP literal (IPv6 without brackets). */
  host: string;
  /** Port (0 picks a free one). */
  port: number;
}

/**
 * Parses a listen address: `HOST:PORT`, `[IPv6]:PORT` or `SCHEME://HOST:PORT`.
 *
 * @example
 * ```ts
 * import { parseListenAddress } from "./serve.ts";
 * console.log(parseListenAddress("[::1]:2222")); // { scheme: "tcp", host: "::1", port: 2222 }
 * ```
 */
export function parseListenAddress(text: string): ListenAddress {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*?)\/?$/.exec(text);
  const scheme = m ? m[1] : "tcp";
  const rest = m ? m[2] : text;
  try {
    const { host, port } = parseHostPort(rest);
    return { scheme, host, port };
  } catch (e) {
    if (e instanceof ForwardSpecError) {
      throw new ForwardSpecError(`--listen '${text}': ${e.message}`);
    }
    throw e;
  }
}

/** Options of {@link serve}. */
export interface ServeOptions {
  /**
   * Listen addresses: `HOST:PORT`, `tcp://`, `tls://`, `quic://`, `ws://`, `wss://`,
   * `iroh://[HOST:PORT][?relay=off]`; at least one.
   */
  listen: string[];
  /** Host keys (OpenSSH private keys). */
  hostKeys: PrivateKey[];
  /** Who may log in. */
  authenticator: SshAuthenticator;
  /** Where forwards may go (default: allow everything not reserved). */
  policy?: ForwardingPolicy;
  /** Event log (default: text lines on stderr). */
  logger?: Logger;
  /** Allow remote forwards on non-loopback addresses. */
  allowRemoteBind?: boolean;
  /** Handlers for reserved `alknet-*` destinations. */
  reserved?: Record<string, ReservedChannelHandler>;
  /** Outbound connections for tunnels (default: direct TCP). */
  dial?: Dialer;
  /** Connection limits (default: `DEFAULT_LIMITS`); adjustable at runtime. */
  limiter?: ConnectionLimiter;
  /** Pre-authentication timeout override (default: the limiter's, 30 s). */
  preauthTimeoutMs?: number;
  /** How long to wait for a client's first bytes (default 5 s). */
  peekTimeoutMs?: number;
  /** Certificate and key (PEM text) for `tls://`, `quic://` and `wss://` listeners. */
  tls?: { cert: string; key: string };
  /** Answer every non-alknet HTTP request on TLS/WebSocket listeners like an ordinary web site. */
  stealth?: boolean;
  /** Serve the stealth decoy site from this directory. */
  decoyDir?: string;
  /** Handler for call-protocol streams (ALPN `alknet/call`). */
  call?: ConnHandler;
  /** Handler for HTTP requests on TLS/WebSocket listeners (e.g. the `/alknet/call` WebSocket). */
  http?: HttpHandler;
  /**
   * Enables the native data path (ALPN `alknet/tcp`): tokens are resolved
   * here, the policy is the SSH server's.
   */
  nativeTcp?: { resolveToken: NativeTcpOptions["resolveToken"] };
  /**
   * The iroh endpoint's 32-byte secret key (its node id is the public key);
   * random when absent, so keep it (see `irohSecretKeyFile`) for a stable id.
   */
  iroh?: { secretKey?: Uint8Array };
}

/** One bound listener. */
export interface Listening {
  /** The `--listen` value it came from. */
  url: string;
  /** `tcp`, `tls`, `quic`, `ws` or `wss`. */
  transport: string;
  /** The bound address (port resolved when 0 was asked). */
  addr: Deno.NetAddr;
  /** ALPNs offered (TLS, QUIC and iroh). */
  alpn?: string[];
  /** The node id (`iroh` only): clients dial `iroh://NODEID`. */
  nodeId?: string;
}

/** A running node endpoint. */
export interface NodeServer {
  /** The bound addresses, in `listen` order (ports resolved when 0 was asked). */
  addrs: Deno.NetAddr[];
  /** Every listener with its transport, in `listen` order. */
  listening: Listening[];
  /** The SSH server (to swap authenticator or policy at runtime). */
  ssh: SshServer;
  /** Stops accepting, drains open sessions for `drainMs` (default 2 s), then closes them. */
  shutdown(drainMs?: number): Promise<void>;
  /**
   * Serves a new certificate on the `tls://` and `wss://` listeners from the
   * next handshake on (ACME renewals); `quic://` keeps its certificate until
   * a restart.
   */
  setCertificate(cert: string, key: string): void;
}

const NOT_SSH_RESPONSE = new TextEncoder().encode(
  "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 27\r\n" +
    "Connection: close\r\n\r\nThis port only speaks SSH.\n",
);

/**
 * Starts SSH listeners.
 *
 * @example
 * ```ts
 * import { generateEd25519Key, parsePrivateKey, serve } from "@alknet/core";
 * const hostKey = parsePrivateKey(generateEd25519Key().privateText, "generated");
 * const node = await serve({
 *   listen: ["127.0.0.1:0"],
 *   hostKeys: [hostKey],
 *   authenticator: { authorize: () => ({ ok: false, reason: "no keys" }) },
 * });
 * console.log(node.addrs[0].port > 0); // true
 * await node.shutdown(0);
 * ```
 */
export async function serve(options: ServeOptions): Promise<NodeServer> {
  if (options.listen.length === 0) throw new Error("serve: at least one listen address is needed");
  const logger = options.logger ?? new Logger();
  const policy = options.policy ?? { evaluate: () => "allow" as const };
  const ssh = new SshServer({
    hostKeys: options.hostKeys,
    authenticator: options.authenticator,
    policy,
    logger,
    allowRemoteBind: options.allowRemoteBind,
    reserved: options.reserved,
    dial: options.dial,
    limiter: options.limiter,
    preauthTimeoutMs: options.preauthTimeoutMs,
  });
  const peekTimeout = options.peekTimeoutMs ?? 5000;
  const handlers: EndpointHandlers = {
    ssh: (conn, info) => {
      const limit = ssh.admit(info);
      if (!limit) return conn.close();
      const socket = connToDuplex(conn, {
        remoteAddress: info.remoteAddress,
        remotePort: info.remotePort,
      });
      ssh.handle(socket, { ...info, limit });
    },
    call: options.call,
    http: options.http,
    tcp: options.nativeTcp
      ? nativeTcpHandler({
        resolveToken: options.nativeTcp.resolveToken,
        policy: { evaluate: (r) => ssh.policy.evaluate(r) },
        dial: options.dial,
        logger,
      })
      : undefined,
  };
  const listeners: { text: string; listener: Deno.TcpListener }[] = [];
  const endpoints: (Endpoint | IrohListener)[] = [];
  const bound: Listening[] = [];
  try {
    for (const text of options.listen) {
      if (/^iroh:\/\//i.test(text)) {
        // The iroh binding is loaded here, on the first iroh:// listener.
        const ep = await listenIroh({
          url: text,
          secretKey: options.iroh?.secretKey,
          handlers,
          logger,
          peekTimeoutMs: peekTimeout,
        });
        endpoints.push(ep);
        bound.push({
          url: text,
          transport: "iroh",
          addr: ep.addr,
          alpn: ep.alpn,
          nodeId: ep.nodeId,
        });
        continue;
      }
      const addr = parseListenAddress(text);
      if (addr.scheme === "tcp") {
        const listener = Deno.listen({ hostname: addr.host, port: addr.port, transport: "tcp" });
        listeners.push({ text, listener });
        bound.push({ url: text, transport: "tcp", addr: listener.addr as Deno.NetAddr });
        continue;
      }
      if (!["tls", "quic", "ws", "wss"].includes(addr.scheme)) {
        throw new ForwardSpecError(
          `--listen '${text}': unknown scheme ${addr.scheme}:// (tcp, tls, quic, ws, wss or iroh)`,
        );
      }
      if (addr.scheme !== "ws" && !options.tls) {
        throw new ForwardSpecError(
          `--listen '${text}': ${addr.scheme}:// needs a certificate (--tls-cert/--tls-key or --tls-self-signed)`,
        );
      }
      const ep = await listenEndpoint(text, {
        handlers,
        cert: options.tls?.cert,
        key: options.tls?.key,
        stealth: options.stealth,
        decoyDir: options.decoyDir,
        peekTimeoutMs: peekTimeout,
        logger,
      });
      endpoints.push(ep);
      bound.push({ url: text, transport: ep.transport, addr: ep.addr, alpn: ep.alpn });
    }
  } catch (e) {
    for (const { listener } of listeners) listener.close();
    await Promise.all(endpoints.map((ep) => ep.close()));
    throw e;
  }
  const accepting = listeners.map(async ({ listener }) => {
    try {
      for await (const conn of listener) {
        handleConn(conn, ssh, logger, peekTimeout).catch(() => conn.close());
      }
    } catch { /* listener closed */ }
  });
  let shut: Promise<void> | undefined;
  return {
    addrs: bound.map((b) => b.addr),
    listening: bound,
    ssh,
    setCertificate(cert, key) {
      for (const ep of endpoints) {
        if ("transport" in ep && (ep.transport === "tls" || ep.transport === "wss")) {
          ep.setCertificate(cert, key);
        }
      }
    },
    shutdown(drainMs = 2000) {
      shut ??= (async () => {
        for (const { listener } of listeners) {
          try {
            listener.close();
          } catch { /* closed */ }
        }
        await Promise.all(accepting);
        await ssh.shutdown(drainMs);
        await Promise.all(endpoints.map((ep) => ep.close()));
      })();
      return shut;
    },
  };
}

async function handleConn(
  conn: Deno.TcpConn,
  ssh: SshServer,
  logger: Logger,
  peekTimeout: number,
): Promise<void> {
  conn.setNoDelay(true);
  const peer = conn.remoteAddr as Deno.NetAddr;
  const info = { remoteAddress: peer.hostname, remotePort: peer.port, transport: "tcp" };
  // Refused sources (penalty, too many connections) cost one accept and one close.
  const limit = ssh.admit(info);
  if (!limit) return conn.close();
  const peeked = await peekProtocol(conn, peekTimeout);
  if (peeked.protocol !== "ssh" || peeked.timedOut) {
    limit.close();
    logger.event("conn rejected", {
      remote: hostPort(peer.hostname, peer.port),
      transport: "tcp",
      reason: peeked.protocol === "silent" ? "no-data" : "not-ssh",
    });
    if (peeked.protocol === "http") await writeAll(conn, NOT_SSH_RESPONSE).catch(() => {});
    conn.close();
    return;
  }
  const socket = connToDuplex(conn, {
    remoteAddress: peer.hostname,
    remotePort: peer.port,
    prefix: peeked.prefix,
  });
  ssh.handle(socket, { ...info, limit });
}
