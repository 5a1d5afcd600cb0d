/**
 * The shapes shared by every listener (TCP, TLS, QUIC, WebSocket, iroh):
 * where a connection came from, the protocol handlers it is handed to, the
 * listener's options and the running listener.
 *
 * @module
 */

import type { ByteConn } from "./stream.ts";
import type { Logger } from "../util/log.ts";
import type { ConnectionLimiter } from "./limits.ts";

/**
 * How a connection reached the endpoint.
 *
 * @example
 * ```ts
 * import type { TransportKind } from "@alknet/core/transport";
 * const t: TransportKind = "quic";
 * console.log(t);
 * ```
 */
export type TransportKind = "tcp" | "tls" | "quic" | "ws" | "wss" | "iroh";

/**
 * Where a connection came from.
 *
 * @example
 * ```ts
 * import type { ConnInfo } from "@alknet/core/transport";
 * const info: ConnInfo = { remoteAddress: "127.0.0.1", remotePort: 50000, transport: "tls", alpn: "alknet/ssh" };
 * console.log(info.alpn);
 * ```
 */
export interface ConnInfo {
  /** Peer IP address. */
  remoteAddress: string;
  /** Peer port. */
  remotePort: number;
  /** `tcp`, `tls`, `quic`, `ws` (WebSocket over plain HTTP), `wss` (over TLS) or `iroh`. */
  transport: TransportKind;
  /** The negotiated ALPN, when there was one. */
  alpn?: string;
  /** The peer's iroh node id (`iroh` only; authenticated by the QUIC handshake). */
  peerId?: string;
  /**
   * When the listener accepted the connection (`Date.now()`): pre-auth
   * timeouts count from here, whatever stage the peer stalls in.
   */
  acceptedAt?: number;
  /**
   * Tells the listener the peer has proven itself (SSH login, a valid
   * token): frees its place among its address's unauthenticated
   * connections and stops the listener's pre-auth clock. The `call` and
   * `tcp` handlers must call it, or the listener closes the connection at
   * the pre-auth timeout; the SSH server calls it itself. Idempotent.
   */
  authenticated?: () => void;
}

/**
 * Takes ownership of an accepted byte stream (and must close it).
 *
 * @example
 * ```ts
 * import type { ConnHandler } from "@alknet/core/transport";
 * const drop: ConnHandler = (conn) => conn.close();
 * console.log(typeof drop); // "function"
 * ```
 */
export type ConnHandler = (conn: ByteConn, info: ConnInfo) => void;

/**
 * Answers an HTTP request; `null`/`undefined` means "not mine" (the decoy
 * site answers in stealth mode, else a plain 404).
 *
 * @example
 * ```ts
 * import type { HttpHandler } from "@alknet/core/transport";
 * const h: HttpHandler = (req) => new URL(req.url).pathname === "/health" ? new Response("ok") : null;
 * console.log(typeof h); // "function"
 * ```
 */
export type HttpHandler = (
  req: Request,
  info: ConnInfo,
) => Response | null | undefined | Promise<Response | null | undefined>;

/**
 * The protocol handlers, fixed at start.
 *
 * @example
 * ```ts
 * import type { EndpointHandlers } from "@alknet/core/transport";
 * const handlers: EndpointHandlers = { ssh: (conn) => conn.close(), http: () => null };
 * console.log(Object.keys(handlers));
 * ```
 */
export interface EndpointHandlers {
  /** SSH sessions (ALPN `alknet/ssh`, peeked `SSH-`, WebSocket `/alknet/ssh`). */
  ssh: ConnHandler;
  /** Call-protocol byte streams (ALPN `alknet/call`). */
  call?: ConnHandler;
  /** Native data path streams (ALPN `alknet/tcp`, see `nativeTcpHandler`). */
  tcp?: ConnHandler;
  /** HTTP requests that are not the SSH WebSocket (mount `/alknet/call` here). */
  http?: HttpHandler;
}

/**
 * Options of `listenEndpoint`.
 *
 * @example
 * ```ts
 * import type { EndpointOptions } from "@alknet/core/transport";
 * const o: EndpointOptions = {
 *   handlers: { ssh: (conn) => conn.close() },
 *   stealth: true,
 *   alpn: ["alknet/ssh", "h2", "http/1.1"],
 *   peekTimeoutMs: 5000,
 * };
 * console.log(o.alpn);
 * ```
 */
export interface EndpointOptions {
  /** The protocol handlers. */
  handlers: EndpointHandlers;
  /** Certificate chain, PEM (required for `tls`, `quic`, `wss`). */
  cert?: string;
  /** Private key, PEM. */
  key?: string;
  /**
   * ALPNs to offer (default: every ALPN with a handler; HTTP ALPNs always
   * have one). A duplicate, an unknown name or an ALPN without a handler is
   * an error at start.
   */
  alpn?: string[];
  /**
   * Stealth mode (`tls://`, `wss://`): only `http/1.1`, `http/1.0` and
   * `http/0.9` are offered (`alpn` is ignored), and only a client that
   * proves itself in its first bytes (`acceptToken`) reaches alknet;
   * everything else is answered as nginx answers it (or by
   * `decoyUpstream`).
   */
  stealth?: boolean;
  /** Serve the decoy site from this directory (stealth mode). */
  decoyDir?: string;
  /**
   * Stealth mode: relay unauthenticated connections to this web server
   * (`http://HOST:PORT`), bytes passed through unchanged.
   */
  decoyUpstream?: string;
  /**
   * Checks a token a client presents in its first bytes (the preamble, or
   * `Authorization: Bearer` on its first HTTP request). Without it no
   * preamble is accepted.
   */
  acceptToken?: (token: string, info: ConnInfo) => boolean | Promise<boolean>;
  /** How long to wait for a client's first bytes before dropping it (default 5000 ms). */
  peekTimeoutMs?: number;
  /** TLS/QUIC handshake deadline (default: the limiter's `tlsHandshakeTimeoutS`, 10 s). */
  handshakeTimeoutMs?: number;
  /**
   * Per-address cap on unauthenticated connections and the deadlines
   * (`maxUnauthenticatedPerIp`, `tlsHandshakeTimeoutS`,
   * `httpHeaderTimeoutS`, `preauthTimeoutS`), read at every accept so a
   * reload applies to new connections. Share one limiter between the
   * listeners of a node so the cap counts all of them (default: one of
   * this listener's own with the default limits).
   */
  limiter?: ConnectionLimiter;
  /**
   * Pre-auth deadline from accept, in milliseconds (default: the limiter's
   * `preauthTimeoutS`): a `call` or `tcp` connection whose handler has not
   * called `info.authenticated()` by then is closed and logged
   * (`conn rejected reason=preauth-timeout`); SSH keeps its own clock,
   * started at the same accept.
   */
  preauthTimeoutMs?: number;
  /** Deadline for the header of the first HTTP request, in milliseconds (default: the limiter's `httpHeaderTimeoutS`, 60 s). */
  httpHeaderTimeoutMs?: number;
  /** QUIC idle timeout (default 60 000 ms). */
  quicIdleTimeoutMs?: number;
  /** Connection events (`conn rejected`) are logged here. */
  logger?: Logger;
}

/**
 * A running listener.
 *
 * @example
 * ```ts
 * import { type Endpoint, listenEndpoint } from "@alknet/core/transport";
 * const ep: Endpoint = await listenEndpoint("ws://127.0.0.1:0", { handlers: { ssh: (c) => c.close() } });
 * console.log(ep.transport, ep.addr.port > 0); // ws true
 * await ep.close();
 * ```
 */
export interface Endpoint {
  /** The bound address (port resolved when 0 was asked). */
  addr: Deno.NetAddr;
  /** The transport. */
  transport: TransportKind;
  /** The ALPNs offered (TLS/QUIC), in order. */
  alpn: string[];
  /**
   * Replaces the certificate for new connections (ACME renewal). Supported
   * on `tls://`; other transports need a restart and throw
   * `EndpointConfigError`.
   */
  setCertificate(cert: string, key: string): void;
  /** Stops accepting and closes every connection this endpoint accepted. */
  close(): Promise<void>;
}
