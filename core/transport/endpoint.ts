/**
 * The endpoint: one listener per transport URL (`tcp://`, `tls://`,
 * `quic://`, `ws://`, `wss://`), each accepted connection handed to exactly
 * one protocol handler (DESIGN 4.2).
 *
 * - TLS and QUIC: the negotiated ALPN picks the handler: `alknet/ssh`,
 *   `alknet/call`, `alknet/tcp`, `h2` / `http/1.1` (HTTP). A client that
 *   offers only unknown ALPNs fails the handshake. TLS without ALPN (and plain
 *   `tcp://`) peeks the first bytes (until 8 bytes, end of stream or the peek
 *   timeout, 5 s): `SSH-` is SSH, anything else HTTP, nothing is dropped.
 * - QUIC `alknet/ssh` runs one SSH session on the connection's first
 *   bidirectional stream; `alknet/tcp` and `alknet/call` take one connection
 *   per stream.
 * - HTTP (on TLS, on peeked TCP, `ws://` and `wss://`) is served by
 *   `Deno.serve`, so HTTP/1.1 and HTTP/2 framing are Deno's: decrypted TLS
 *   bytes (and peeked plain bytes) are relayed to a private loopback
 *   `Deno.serve`, and the real peer address is looked up by the relay's
 *   local port. `ws://` is `Deno.serve` itself; `wss://` is an HTTP-only TLS
 *   listener (ALPN `h2`/`http/1.1`). `GET /alknet/ssh` with a
 *   WebSocket upgrade carries SSH as binary messages; other requests go to
 *   the `http` handler, then (stealth) to the decoy site.
 * - TLS is `node:tls` (its sockets take TCP_NODELAY; `Deno.listenTls`
 *   connections cannot), every TCP socket gets NODELAY.
 *
 * @module
 */

import tls from "node:tls";
import type { Duplex } from "node:stream";
import type { ByteConn } from "./stream.ts";
import { connToDuplex, relayConns } from "./stream.ts";
import { peekProtocol } from "./peek.ts";
import type { Logger } from "../util/log.ts";
import { hostPort } from "./hostport.ts";
import { duplexToConn, prefixedConn, quicStreamConn, trackedConn, webSocketConn } from "./conn.ts";
import { decoySite } from "./decoy.ts";
import { EndpointConfigError } from "./errors.ts";
import { parseTransportUrl, type TransportUrl, WS_SSH_PATH } from "./url.ts";
import { writeAll } from "./stream.ts";

/**
 * How a connection reached the endpoint.
 *
 * @example
 * ```ts
 * import type { TransportKind } from "./endpoint.ts";
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
 * import type { ConnInfo } from "./endpoint.ts";
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
}

/**
 * Takes ownership of an accepted byte stream (and must close it).
 *
 * @example
 * ```ts
 * import type { ConnHandler } from "./endpoint.ts";
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
 * import type { HttpHandler } from "./endpoint.ts";
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
 * import type { EndpointHandlers } from "./endpoint.ts";
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
 * Every ALPN the endpoint knows, in server preference order.
 *
 * @example
 * ```ts
 * import { ENDPOINT_ALPNS } from "./endpoint.ts";
 * console.log(ENDPOINT_ALPNS[0]); // "alknet/ssh"
 * ```
 */
export const ENDPOINT_ALPNS = [
  "alknet/ssh",
  "alknet/call",
  "alknet/tcp",
  "h2",
  "http/1.1",
] as const;

/**
 * Options of {@link listenEndpoint}.
 *
 * @example
 * ```ts
 * import type { EndpointOptions } from "./endpoint.ts";
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
  /** Answer every non-alknet HTTP request like an ordinary web server. */
  stealth?: boolean;
  /** Serve the decoy site from this directory (stealth mode). */
  decoyDir?: string;
  /** How long to wait for a client's first bytes before dropping it (default 5000 ms). */
  peekTimeoutMs?: number;
  /** TLS/QUIC handshake deadline (default 10 000 ms). */
  handshakeTimeoutMs?: number;
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
 * import { type Endpoint, listenEndpoint } from "./endpoint.ts";
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
   * {@link EndpointConfigError}.
   */
  setCertificate(cert: string, key: string): void;
  /** Stops accepting and closes every connection this endpoint accepted. */
  close(): Promise<void>;
}

interface Closable {
  close(): void;
}

function closeQuietly(c: Closable): void {
  try {
    c.close();
  } catch { /* already closed */ }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), ms)),
  ]).finally(() => clearTimeout(timer));
}

const HTTP_ALPNS = new Set(["h2", "http/1.1"]);

/** How long a server waits for the client to close a finished QUIC SSH connection. */
const QUIC_LINGER_MS = 2000;

function resolveAlpns(options: EndpointOptions, quic: boolean): string[] {
  const h = options.handlers;
  if (typeof h?.ssh !== "function") throw new EndpointConfigError("handlers.ssh is required");
  const has = (alpn: string) =>
    alpn === "alknet/ssh"
      ? true
      : alpn === "alknet/call"
      ? typeof h.call === "function"
      : alpn === "alknet/tcp"
      ? typeof h.tcp === "function"
      : HTTP_ALPNS.has(alpn);
  const known = new Set<string>(ENDPOINT_ALPNS);
  const list = options.alpn ?? ENDPOINT_ALPNS.filter((a) => has(a) && !(quic && HTTP_ALPNS.has(a)));
  const seen = new Set<string>();
  for (const a of list) {
    if (seen.has(a)) throw new EndpointConfigError(`ALPN '${a}' is listed twice`);
    seen.add(a);
    if (!known.has(a)) {
      throw new EndpointConfigError(
        `unknown ALPN '${a}' (known: ${ENDPOINT_ALPNS.join(", ")})`,
      );
    }
    if (!has(a)) {
      throw new EndpointConfigError(
        `ALPN '${a}' is offered but handlers.${a.slice("alknet/".length)} is missing`,
      );
    }
    if (quic && HTTP_ALPNS.has(a)) {
      throw new EndpointConfigError(
        `ALPN '${a}' cannot be served over QUIC (that would be HTTP/3)`,
      );
    }
  }
  if (list.length === 0) throw new EndpointConfigError("no ALPN to offer");
  return [...list];
}

function noCertificateSwap(transport: string): () => never {
  return () => {
    throw new EndpointConfigError(
      `${transport}:// cannot change its certificate while running; restart the listener`,
    );
  };
}

/** The HTTP side shared by every transport: router, stealth, internal server. */
class HttpFront {
  #options: EndpointOptions;
  #track: (c: ByteConn) => ByteConn;
  #decoy?: (req: Request) => Promise<Response>;
  #internal?: { server: Deno.HttpServer<Deno.NetAddr>; ac: AbortController; port: number };
  #peers = new Map<number, ConnInfo>();

  constructor(options: EndpointOptions, track: (c: ByteConn) => ByteConn) {
    this.#options = options;
    this.#track = track;
    if (options.stealth) this.#decoy = decoySite({ dir: options.decoyDir });
  }

  async route(req: Request, info: ConnInfo): Promise<Response> {
    const url = new URL(req.url);
    if (
      url.pathname === WS_SSH_PATH &&
      (req.headers.get("upgrade") ?? "").toLowerCase() === "websocket"
    ) {
      const { socket, response } = Deno.upgradeWebSocket(req);
      const transport: TransportKind = info.transport === "tls" || info.transport === "wss"
        ? "wss"
        : "ws";
      const conn = this.#track(webSocketConn(socket));
      socket.addEventListener("open", () => {
        this.#options.handlers.ssh(conn, { ...info, transport, alpn: info.alpn });
      }, { once: true });
      return response;
    }
    let res: Response | null | undefined = null;
    if (this.#options.handlers.http) {
      try {
        res = await this.#options.handlers.http(req, info);
      } catch {
        res = this.#decoy ? null : new Response("Internal Server Error\n", { status: 500 });
      }
    }
    if (this.#decoy) {
      if (res && res.status >= 400) {
        await res.body?.cancel().catch(() => {});
        res = null;
      }
      return res ?? await this.#decoy(req);
    }
    return res ?? new Response("Not Found\n", {
      status: 404,
      headers: { "content-type": "text/plain" },
    });
  }

  #startInternal(): { port: number } {
    if (this.#internal) return this.#internal;
    const ac = new AbortController();
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      signal: ac.signal,
      onListen: () => {},
      onError: () => new Response(null, { status: 500 }),
    }, (req, sinfo) => {
      const addr = sinfo.remoteAddr as Deno.NetAddr;
      const info = this.#peers.get(addr.port) ??
        { remoteAddress: addr.hostname, remotePort: addr.port, transport: "tcp" as const };
      return this.route(req, info);
    });
    this.#internal = { server, ac, port: server.addr.port };
    return this.#internal;
  }

  /** Relays decrypted (or peeked plain) HTTP bytes to the internal server. */
  async relay(conn: ByteConn, prefix: Uint8Array, info: ConnInfo): Promise<void> {
    const { port } = this.#startInternal();
    let inner: Deno.TcpConn;
    try {
      inner = await Deno.connect({ hostname: "127.0.0.1", port });
    } catch {
      conn.close();
      return;
    }
    inner.setNoDelay(true);
    const local = (inner.localAddr as Deno.NetAddr).port;
    this.#peers.set(local, info);
    const tracked = this.#track(inner);
    try {
      if (prefix.length > 0) await writeAll(tracked, prefix);
      await relayConns(conn, tracked);
    } catch {
      closeQuietly(conn);
      closeQuietly(tracked);
    } finally {
      this.#peers.delete(local);
    }
  }

  async close(): Promise<void> {
    const i = this.#internal;
    if (!i) return;
    i.ac.abort();
    await withTimeout(i.server.finished, 2000);
  }
}

/**
 * Starts one listener. `url` is `tcp://HOST:PORT` (or `HOST:PORT`),
 * `tls://`, `quic://`, `ws://` or `wss://` (a path in ws URLs is ignored:
 * SSH is always at `/alknet/ssh`).
 *
 * @throws {EndpointConfigError} for a duplicate ALPN, an offered ALPN without a handler, or TLS without a certificate
 * @throws {TransportUrlError} for a malformed URL
 * @example
 * ```ts
 * import { listenEndpoint } from "./endpoint.ts";
 * const ep = await listenEndpoint("tcp://127.0.0.1:0", {
 *   handlers: { ssh: (conn) => conn.close() },
 *   stealth: true,
 * });
 * console.log(ep.addr.port > 0); // true
 * await ep.close();
 * ```
 */
export function listenEndpoint(
  url: string | TransportUrl,
  options: EndpointOptions,
): Promise<Endpoint> {
  try {
    return Promise.resolve(startEndpoint(url, options));
  } catch (e) {
    return Promise.reject(e);
  }
}

function startEndpoint(url: string | TransportUrl, options: EndpointOptions): Endpoint {
  const u = typeof url === "string" ? parseTransportUrl(url) : url;
  const open = new Set<Closable>();
  let closing = false;
  const track = (c: ByteConn): ByteConn => {
    if (closing) {
      closeQuietly(c);
      return c;
    }
    const t = trackedConn(c, () => open.delete(t));
    open.add(t);
    return t;
  };
  const http = new HttpFront(options, track);
  const peekMs = options.peekTimeoutMs ?? 5000;
  const handshakeMs = options.handshakeTimeoutMs ?? 10_000;
  const log = options.logger;
  const reject = (info: ConnInfo, reason: string) =>
    log?.event("conn rejected", {
      remote: hostPort(info.remoteAddress, info.remotePort),
      transport: info.transport,
      reason,
    });
  const needCert = u.scheme === "tls" || u.scheme === "quic" || u.scheme === "wss";
  if (needCert && (!options.cert || !options.key)) {
    throw new EndpointConfigError(`${u.scheme}:// needs a certificate and key (cert, key)`);
  }

  /** After ALPN (or peek) has chosen: hand over. */
  const dispatch = (alpn: string, conn: ByteConn, info: ConnInfo, prefix?: Uint8Array) => {
    const h = options.handlers;
    const c = prefix ? prefixedConn(conn, prefix) : conn;
    if (alpn === "alknet/ssh") h.ssh(c, info);
    else if (alpn === "alknet/call" && h.call) h.call(c, info);
    else if (alpn === "alknet/tcp" && h.tcp) h.tcp(c, info);
    else if (HTTP_ALPNS.has(alpn)) void http.relay(conn, prefix ?? new Uint8Array(0), info);
    else {
      reject(info, "unknown-alpn");
      closeQuietly(conn);
    }
  };

  /** Plain TCP, or TLS without ALPN: peek. */
  const peekThenDispatch = async (conn: ByteConn, info: ConnInfo) => {
    const peeked = await peekProtocol(conn, peekMs);
    if (peeked.timedOut || peeked.protocol === "silent") {
      reject(info, "no-data");
      closeQuietly(conn);
      return;
    }
    if (peeked.protocol === "ssh") dispatch("alknet/ssh", conn, info, peeked.prefix);
    else void http.relay(conn, peeked.prefix, info);
  };

  if (u.scheme === "tcp") {
    const listener = Deno.listen({ hostname: u.host, port: u.port, transport: "tcp" });
    const loop = (async () => {
      try {
        for await (const raw of listener) {
          raw.setNoDelay(true);
          const peer = raw.remoteAddr as Deno.NetAddr;
          const info: ConnInfo = {
            remoteAddress: peer.hostname,
            remotePort: peer.port,
            transport: "tcp",
          };
          peekThenDispatch(track(raw), info).catch(() => closeQuietly(raw));
        }
      } catch { /* listener closed */ }
    })();
    return {
      addr: listener.addr as Deno.NetAddr,
      transport: "tcp",
      alpn: [],
      setCertificate: noCertificateSwap("tcp"),
      async close() {
        closing = true;
        closeQuietly(listener);
        await loop;
        for (const c of [...open]) closeQuietly(c);
        await http.close();
      },
    };
  }

  if (u.scheme === "tls" || u.scheme === "wss") {
    // wss:// is an HTTP-only TLS listener (Deno.serve's own TLS sockets keep
    // Nagle on: 44 ms per two-write reply); tls:// dispatches by ALPN.
    const httpOnly = u.scheme === "wss";
    const alpn = httpOnly ? ["h2", "http/1.1"] : resolveAlpns(options, false);
    if (httpOnly && typeof options.handlers?.ssh !== "function") {
      throw new EndpointConfigError("handlers.ssh is required");
    }
    // TLS runs in node:tls over our own TCP sockets: Deno.listenTls
    // connections cannot take TCP_NODELAY, and node:tls server sockets lose
    // the end of stream when they were backpressured.
    let secureContext = tls.createSecureContext({ cert: options.cert, key: options.key });
    const listener = Deno.listen({ hostname: u.host, port: u.port, transport: "tcp" });
    const sockets = new Set<tls.TLSSocket>();
    const accept = (raw: Deno.TcpConn) => {
      raw.setNoDelay(true);
      const peer = raw.remoteAddr as Deno.NetAddr;
      const plain = connToDuplex(raw, { remoteAddress: peer.hostname, remotePort: peer.port });
      const socket = new tls.TLSSocket(plain as unknown as Duplex, {
        isServer: true,
        secureContext,
        ALPNProtocols: alpn,
        // Half-close: a client's close_notify ends only its direction.
        allowHalfOpen: true,
      } as tls.TLSSocketOptions);
      // The TLS wrapper resets both to false, which would end our side
      // when the client half-closes.
      (socket as unknown as { allowHalfOpen: boolean }).allowHalfOpen = true;
      (plain as unknown as { allowHalfOpen: boolean }).allowHalfOpen = true;
      sockets.add(socket);
      const timer = setTimeout(() => socket.destroy(), handshakeMs);
      socket.on("error", () => socket.destroy());
      socket.on("close", () => {
        clearTimeout(timer);
        sockets.delete(socket);
        plain.destroy();
      });
      socket.once("secure", () => {
        clearTimeout(timer);
        if (closing) return socket.destroy();
        const info: ConnInfo = {
          remoteAddress: peer.hostname,
          remotePort: peer.port,
          transport: httpOnly ? "wss" : "tls",
        };
        const conn = track(duplexToConn(socket, plain));
        const negotiated = socket.alpnProtocol;
        if (typeof negotiated === "string" && negotiated !== "") info.alpn = negotiated;
        if (httpOnly) void http.relay(conn, new Uint8Array(0), info);
        else if (info.alpn) dispatch(info.alpn, conn, info);
        else peekThenDispatch(conn, info).catch(() => closeQuietly(conn));
      });
    };
    const loop = (async () => {
      try {
        for await (const raw of listener) {
          if (closing) closeQuietly(raw);
          else accept(raw);
        }
      } catch { /* listener closed */ }
    })();
    return {
      addr: listener.addr as Deno.NetAddr,
      transport: u.scheme,
      alpn,
      setCertificate(cert: string, key: string) {
        secureContext = tls.createSecureContext({ cert, key });
      },
      async close() {
        closing = true;
        closeQuietly(listener);
        await loop;
        for (const c of [...open]) closeQuietly(c);
        for (const s of [...sockets]) s.destroy();
        await http.close();
      },
    };
  }

  if (u.scheme === "quic") {
    const alpn = resolveAlpns(options, true);
    const endpoint = new Deno.QuicEndpoint({ hostname: u.host, port: u.port });
    const listener = endpoint.listen({
      alpnProtocols: alpn,
      cert: options.cert!,
      key: options.key!,
      maxIdleTimeout: options.quicIdleTimeoutMs ?? 60_000,
    });
    const conns = new Set<Deno.QuicConn>();
    const handle = async (incoming: Deno.QuicIncoming) => {
      const accepted = await withTimeout(Promise.resolve(incoming.accept<false>()), handshakeMs)
        .catch(() => null);
      if (!accepted || accepted === "timeout") return;
      const qc = accepted;
      conns.add(qc);
      qc.closed.then(() => conns.delete(qc), () => conns.delete(qc));
      if (closing) return closeQuietly(qc);
      const negotiated = qc.protocol ?? "";
      const info: ConnInfo = {
        remoteAddress: qc.remoteAddr.hostname,
        remotePort: qc.remoteAddr.port,
        transport: "quic",
        alpn: negotiated,
      };
      const streams = qc.incomingBidirectionalStreams.getReader();
      if (negotiated === "alknet/ssh") {
        const first = await withTimeout(streams.read(), peekMs).catch(() => null);
        if (!first || first === "timeout" || first.done) {
          reject(info, "no-data");
          closeQuietly(qc);
          return;
        }
        // Closing a QUIC connection discards unacknowledged data, so when the
        // SSH stream closes the server waits (bounded) for the client to close.
        const linger = () => {
          const t = setTimeout(() => closeQuietly(qc), QUIC_LINGER_MS);
          qc.closed.finally(() => clearTimeout(t)).catch(() => {});
        };
        options.handlers.ssh(track(quicStreamConn(first.value, linger)), info);
        // Further streams on an SSH connection are refused.
        try {
          while (true) {
            const r = await streams.read();
            if (r.done) break;
            r.value.readable.cancel().catch(() => {});
            r.value.writable.abort().catch(() => {});
          }
        } catch { /* connection closed */ }
        return;
      }
      const handler = negotiated === "alknet/tcp"
        ? options.handlers.tcp
        : negotiated === "alknet/call"
        ? options.handlers.call
        : undefined;
      if (!handler) {
        reject(info, "unknown-alpn");
        closeQuietly(qc);
        return;
      }
      try {
        while (true) {
          const r = await streams.read();
          if (r.done) break;
          handler(track(quicStreamConn(r.value)), info);
        }
      } catch { /* connection closed */ }
    };
    const loop = (async () => {
      try {
        for await (const incoming of listener) {
          if (closing) {
            incoming.refuse();
            continue;
          }
          handle(incoming).catch(() => {});
        }
      } catch { /* stopped */ }
    })();
    return {
      addr: endpoint.addr,
      transport: "quic",
      alpn,
      setCertificate: noCertificateSwap("quic"),
      async close() {
        closing = true;
        for (const c of [...open]) closeQuietly(c);
        for (const c of [...conns]) closeQuietly(c);
        try {
          listener.stop();
        } catch { /* stopped */ }
        closeQuietly(endpoint);
        await withTimeout(loop, 2000);
      },
    };
  }

  // ws://: Deno.serve directly (its plain TCP sockets have NODELAY).
  const ac = new AbortController();
  const transport: TransportKind = u.scheme;
  const server = Deno.serve({
    hostname: u.host,
    port: u.port,
    signal: ac.signal,
    onListen: () => {},
    onError: () => new Response(null, { status: 500 }),
  }, (req, sinfo) => {
    const addr = sinfo.remoteAddr as Deno.NetAddr;
    return http.route(req, { remoteAddress: addr.hostname, remotePort: addr.port, transport });
  });
  return {
    addr: server.addr as Deno.NetAddr,
    transport,
    alpn: [],
    setCertificate: noCertificateSwap(transport),
    async close() {
      closing = true;
      for (const c of [...open]) closeQuietly(c);
      ac.abort();
      await withTimeout(server.finished, 2000);
      await http.close();
    },
  };
}
