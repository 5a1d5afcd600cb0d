/**
 * Client transports: open a {@link ByteConn} to a node over `tcp://`,
 * `tls://`, `quic://`, `ws://` or `wss://`, optionally through an upstream
 * SOCKS5 / HTTP CONNECT proxy (tcp, tls, ws, wss; host names unresolved).
 *
 * TLS trust, in order:
 * - `fingerprint` (pin): the certificate is fetched once over an unverified
 *   `node:tls` handshake and its `SHA256:` fingerprint compared with the pin;
 *   the real connection is then a verified `Deno.startTls` that trusts that
 *   exact certificate (`caCerts: [pem]`) under a name from its
 *   subjectAltName. The pinned PEM is cached per host:port for the process.
 *   (Deno's `connectTls`/`startTls` cannot skip verification or show the
 *   peer certificate, so the pin is checked this way; the verified second
 *   handshake also proves the server holds the certificate's key.)
 * - `insecure`: `node:tls` with `rejectUnauthorized: false` (no checks at all).
 * - otherwise `Deno.startTls` with the system/Mozilla roots plus
 *   `caCerts`/`caFile`, verifying `serverName` (default: the host).
 *
 * QUIC (`Deno.connectQuic`) always verifies; `caFile`/`caCerts` add trust,
 * and a pin (or `insecure`) fetches the certificate over TLS on the same
 * host and TCP port (the usual `tls://` + `quic://` on 443 setup) and then
 * trusts it for QUIC. QUIC cannot go through a proxy.
 *
 * @module
 */

import tls from "node:tls";
import type { Duplex } from "node:stream";
// @ts-types="@types/ws"
import WebSocket from "ws";
import { type ByteConn, connToDuplex } from "./stream.ts";
import { DialError, dialTcp } from "./tcp.ts";
import { duplexToConn, quicStreamConn, wsClientConn, type WsClientSocket } from "./conn.ts";
import { derFingerprint, derToPem, normalizeFingerprint } from "./certs.ts";
import { PinMismatchError, TransportUrlError } from "./errors.ts";
import { dialViaProxy } from "./proxy.ts";
import {
  parseProxyUrl,
  parseTransportUrl,
  type ProxyUrl,
  type TransportScheme,
  type TransportUrl,
  WS_SSH_PATH,
} from "./url.ts";

/**
 * Options shared by the client dialers.
 *
 * @example
 * ```ts
 * import type { DialOptions } from "./dial.ts";
 * const o: DialOptions = {
 *   proxy: "socks5://127.0.0.1:1080",
 *   fingerprint: "SHA256:" + "0".repeat(64),
 *   alpn: ["alknet/ssh"],
 * };
 * console.log(o.alpn); // ["alknet/ssh"]
 * ```
 */
export interface DialOptions {
  /** Upstream proxy: `socks5://[user:pass@]HOST:PORT` or `http://HOST:PORT`. */
  proxy?: string | ProxyUrl;
  /** Deadline for connecting, proxy and handshake (default 10 000 ms). */
  timeoutMs?: number;
  /** ALPNs to offer on TLS and QUIC (default `["alknet/ssh"]`). */
  alpn?: string[];
  /** TLS server name (SNI and verification; default: the host). */
  serverName?: string;
  /** Extra trusted CA certificates (PEM). */
  caCerts?: string[];
  /** A PEM file of extra trusted CA certificates. */
  caFile?: string;
  /** Accept any certificate (testing only). */
  insecure?: boolean;
  /** Pinned `SHA256:<hex>` fingerprint of the server certificate. */
  fingerprint?: string;
  /** WebSocket path (default `/alknet/ssh`). */
  wsPath?: string;
  /** Extra WebSocket request headers (e.g. `authorization`). */
  headers?: Record<string, string>;
  /** QUIC keepalive interval (default 15 000 ms). */
  quicKeepAliveMs?: number;
}

/**
 * A TLS connection with the negotiated ALPN.
 *
 * @example
 * ```ts
 * import { dialTls, type TlsByteConn } from "./dial.ts";
 * const c: TlsByteConn | null = await dialTls("127.0.0.1", 1, { timeoutMs: 500 }).catch(() => null);
 * console.log(c?.alpn ?? "not connected");
 * c?.close();
 * ```
 */
export interface TlsByteConn extends ByteConn {
  /** The ALPN the server chose, or null. */
  readonly alpn: string | null;
}

const IP_RE = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*)$/;

function deadline<T>(p: Promise<T>, ms: number, what: string, onLate?: (v: T) => void): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let late = false;
  return Promise.race([
    p.then((v) => {
      if (late) onLate?.(v);
      return v;
    }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        late = true;
        reject(new DialError("timeout"));
      }, ms);
    }),
  ]).finally(() => clearTimeout(timer)).catch((e) => {
    if (e instanceof DialError && e.kind === "timeout") {
      throw Object.assign(new DialError("timeout"), {
        message: `${what} timed out after ${ms} ms`,
      });
    }
    throw e;
  });
}

/**
 * Opens TCP to `host:port`, directly (with NODELAY) or through `proxy`.
 *
 * @example
 * ```ts
 * import { dialTcpVia } from "./dial.ts";
 * const conn = await dialTcpVia("127.0.0.1", 22).catch(() => null);
 * conn?.close();
 * ```
 */
export function dialTcpVia(
  host: string,
  port: number,
  options: Pick<DialOptions, "proxy" | "timeoutMs"> = {},
): Promise<Deno.TcpConn> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (options.proxy) return dialViaProxy(options.proxy, host, port, timeoutMs);
  return dialTcp(host, port, timeoutMs);
}

async function caList(options: DialOptions): Promise<string[] | undefined> {
  const list = [...(options.caCerts ?? [])];
  if (options.caFile) {
    try {
      list.push(await Deno.readTextFile(options.caFile));
    } catch (e) {
      throw new TransportUrlError(options.caFile, `cannot read CA file: ${(e as Error).message}`);
    }
  }
  return list.length > 0 ? list : undefined;
}

interface PeerCert {
  pem: string;
  fingerprint: string;
  names: string[];
}

/** node:tls over an already connected TCP stream, optionally unverified. */
async function nodeTls(
  tcp: Deno.TcpConn,
  host: string,
  options: DialOptions,
  tlsOptions: tls.ConnectionOptions,
): Promise<tls.TLSSocket> {
  const socket = tls.connect({
    socket: connToDuplex(tcp) as unknown as Duplex,
    servername: IP_RE.test(options.serverName ?? host) ? undefined : options.serverName ?? host,
    ALPNProtocols: options.alpn ?? ["alknet/ssh"],
    ...tlsOptions,
  });
  try {
    await deadline(
      new Promise<void>((resolve, reject) => {
        socket.once("secureConnect", () => resolve());
        socket.once("error", reject);
        socket.once("close", () => reject(new DialError("unreachable")));
      }),
      options.timeoutMs ?? 10_000,
      "TLS handshake",
    );
  } catch (e) {
    socket.destroy();
    throw e;
  }
  return socket;
}

function peerCertOf(socket: tls.TLSSocket): PeerCert {
  const pc = socket.getPeerCertificate(true);
  const raw = new Uint8Array(pc.raw);
  const names = (pc.subjectaltname ?? "").split(/,\s*/).map((s) =>
    s.replace(/^DNS:/, "").replace(/^IP Address:/, "")
  ).filter((s) => s.length > 0);
  return { pem: derToPem(raw), fingerprint: derFingerprint(raw), names };
}

const pinnedCache = new Map<string, PeerCert>();

/**
 * Fetches the server's leaf certificate over an unverified TLS handshake
 * and checks it against `fingerprint` (when given).
 *
 * @throws {PinMismatchError} when the fingerprint differs
 * @example
 * ```ts
 * import { fetchServerCertificate } from "./dial.ts";
 * const c = await fetchServerCertificate("127.0.0.1", 443).catch((e) => e.message);
 * console.log(c);
 * ```
 */
export async function fetchServerCertificate(
  host: string,
  port: number,
  options: DialOptions = {},
): Promise<{ pem: string; fingerprint: string; names: string[] }> {
  const key = `${host}|${port}|${options.fingerprint ?? ""}`;
  const cached = options.fingerprint ? pinnedCache.get(key) : undefined;
  if (cached) return cached;
  const tcp = await dialTcpVia(host, port, options);
  const socket = await nodeTls(tcp, host, options, { rejectUnauthorized: false });
  const cert = peerCertOf(socket);
  socket.destroy();
  if (options.fingerprint) {
    const want = normalizeFingerprint(options.fingerprint);
    if (cert.fingerprint !== want) throw new PinMismatchError(want, cert.fingerprint);
    pinnedCache.set(key, cert);
  }
  return cert;
}

function verificationName(host: string, names: string[]): string {
  if (names.includes(host)) return host;
  return names.find((n) => !IP_RE.test(n) && !n.includes("*")) ?? names[0] ?? host;
}

/**
 * Opens TLS to `host:port` (see the module notes for trust). Offers
 * `options.alpn` (default `alknet/ssh`); a server that picks a different
 * ALPN is an error, one that picks none is accepted (it peeks instead).
 *
 * @throws {PinMismatchError} when a pinned fingerprint does not match
 * @throws {DialError} or {@link ProxyError} when the connection fails
 * @example
 * ```ts
 * import { dialTls } from "./dial.ts";
 * const conn = await dialTls("127.0.0.1", 443, { insecure: true }).catch(() => null);
 * conn?.close();
 * ```
 */
export async function dialTls(
  host: string,
  port: number,
  options: DialOptions = {},
): Promise<TlsByteConn> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const alpn = options.alpn ?? ["alknet/ssh"];
  if (options.insecure && !options.fingerprint) {
    const tcp = await dialTcpVia(host, port, options);
    const socket = await nodeTls(tcp, host, options, { rejectUnauthorized: false });
    const chosen = typeof socket.alpnProtocol === "string" ? socket.alpnProtocol : null;
    return Object.assign(duplexToConn(socket), { alpn: chosen });
  }
  let caCerts = await caList(options);
  let name = options.serverName ?? host;
  if (options.fingerprint) {
    const cert = await fetchServerCertificate(host, port, options);
    caCerts = [cert.pem];
    name = verificationName(options.serverName ?? host, cert.names);
  }
  const tcp = await dialTcpVia(host, port, options);
  let conn: Deno.TlsConn | undefined;
  let info: Deno.TlsHandshakeInfo;
  try {
    conn = await Deno.startTls(tcp, { hostname: name, caCerts, alpnProtocols: alpn });
    info = await deadline(conn.handshake(), timeoutMs, "TLS handshake");
  } catch (e) {
    try {
      // startTls takes over the TCP connection; close whichever is live.
      (conn ?? tcp).close();
    } catch { /* closed */ }
    throw e;
  }
  if (info.alpnProtocol !== null && !alpn.includes(info.alpnProtocol)) {
    conn.close();
    throw new TransportUrlError(
      `tls://${host}:${port}`,
      `server chose ALPN '${info.alpnProtocol}'`,
    );
  }
  return Object.assign(tlsConnAsByteConn(conn), { alpn: info.alpnProtocol });
}

function tlsConnAsByteConn(conn: Deno.TlsConn): ByteConn {
  return {
    read: (p) => conn.read(p),
    write: (p) => conn.write(p),
    closeWrite: () => conn.closeWrite(),
    close: () => conn.close(),
  };
}

/**
 * A QUIC connection to a node, from which streams are opened.
 *
 * @example
 * ```ts
 * import { dialQuic, type QuicSession } from "./dial.ts";
 * const s: QuicSession | null = await dialQuic("127.0.0.1", 1, { timeoutMs: 500 }).catch(() => null);
 * console.log(s?.alpn ?? "not connected");
 * s?.close();
 * ```
 */
export interface QuicSession {
  /** The underlying connection. */
  readonly conn: Deno.QuicConn;
  /** The negotiated ALPN. */
  readonly alpn: string;
  /** Opens a bidirectional stream as a {@link ByteConn}. */
  openStream(): Promise<ByteConn>;
  /** Closes the connection and every stream. */
  close(): void;
}

/**
 * Opens a QUIC connection (ALPN `options.alpn`, default `alknet/ssh`).
 *
 * @throws {TransportUrlError} when a proxy is configured (QUIC is UDP)
 * @example
 * ```ts
 * import { dialQuic } from "./dial.ts";
 * const s = await dialQuic("127.0.0.1", 443, { alpn: ["alknet/tcp"], caFile: "cert.pem" })
 *   .catch(() => null);
 * s?.close();
 * ```
 */
export async function dialQuic(
  host: string,
  port: number,
  options: DialOptions = {},
): Promise<QuicSession> {
  if (options.proxy) {
    throw new TransportUrlError(`quic://${host}:${port}`, "QUIC cannot go through a TCP proxy");
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  let caCerts = await caList(options);
  let serverName = options.serverName;
  if (options.fingerprint || options.insecure) {
    let cert;
    try {
      cert = await fetchServerCertificate(host, port, { ...options, alpn: ["h2", "http/1.1"] });
    } catch (e) {
      if (e instanceof PinMismatchError) throw e;
      throw new TransportUrlError(
        `quic://${host}:${port}`,
        `a pinned or insecure QUIC connection reads the certificate over TLS on the same port, ` +
          `which failed (${(e as Error).message}); give caFile instead`,
      );
    }
    caCerts = [...(caCerts ?? []), cert.pem];
    serverName = verificationName(options.serverName ?? host, cert.names);
  }
  const alpn = options.alpn ?? ["alknet/ssh"];
  const conn = await deadline(
    Deno.connectQuic<false>({
      hostname: host,
      port,
      serverName,
      alpnProtocols: alpn,
      caCerts,
      keepAliveInterval: options.quicKeepAliveMs ?? 15_000,
      maxIdleTimeout: 60_000,
    }),
    timeoutMs,
    "QUIC handshake",
    (c) => c.close(),
  ).catch((e) => {
    if (e instanceof DialError) throw e;
    throw new DialError("unreachable");
  });
  let closed = false;
  return {
    conn,
    alpn: conn.protocol ?? alpn[0],
    async openStream() {
      const s = await conn.createBidirectionalStream();
      return quicStreamConn(s);
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        conn.close();
      } catch { /* closed */ }
    },
  };
}

/**
 * Opens a QUIC connection and returns its first bidirectional stream; closing
 * the stream closes the connection (how SSH rides QUIC).
 *
 * @example
 * ```ts
 * import { dialQuicStream } from "./dial.ts";
 * const conn = await dialQuicStream("127.0.0.1", 443, { caFile: "cert.pem" }).catch(() => null);
 * conn?.close();
 * ```
 */
export async function dialQuicStream(
  host: string,
  port: number,
  options: DialOptions = {},
): Promise<ByteConn> {
  const session = await dialQuic(host, port, options);
  const s = await session.conn.createBidirectionalStream().catch((e) => {
    session.close();
    throw e;
  });
  return quicStreamConn(s, () => session.close());
}

/**
 * Opens a WebSocket (`npm:ws`, TCP_NODELAY) to `url` (`ws://` or `wss://`,
 * path default `/alknet/ssh`) and returns it as a byte stream of binary
 * messages.
 *
 * @example
 * ```ts
 * import { dialWebSocket } from "./dial.ts";
 * const conn = await dialWebSocket("ws://127.0.0.1:8080/alknet/ssh").catch(() => null);
 * conn?.close();
 * ```
 */
export async function dialWebSocket(
  url: string | TransportUrl,
  options: DialOptions = {},
): Promise<ByteConn> {
  const u = typeof url === "string" ? parseTransportUrl(url) : url;
  if (u.scheme !== "ws" && u.scheme !== "wss") {
    throw new TransportUrlError(String(url), "not a ws:// or wss:// URL");
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  const path = options.wsPath ?? u.path ?? WS_SSH_PATH;
  const authority = u.host.includes(":") ? `[${u.host}]:${u.port}` : `${u.host}:${u.port}`;
  const target = `${u.scheme}://${authority}${path}`;
  const secure = u.scheme === "wss";
  const wsOptions: WebSocket.ClientOptions = {
    perMessageDeflate: false,
    headers: options.headers,
    handshakeTimeout: timeoutMs,
    maxPayload: 64 * 1024 * 1024,
  };
  let preSocket: Duplex | undefined;
  const tlsOptions: tls.ConnectionOptions = {};
  if (secure) {
    let ca = await caList(options);
    let servername = options.serverName ?? u.host;
    let rejectUnauthorized = !options.insecure;
    if (options.fingerprint) {
      const pin = normalizeFingerprint(options.fingerprint);
      const cert = await fetchServerCertificate(u.host, u.port, { ...options, alpn: ["http/1.1"] });
      ca = [cert.pem];
      servername = verificationName(servername, cert.names);
      rejectUnauthorized = true;
      // The pinned certificate is the only CA; the leaf is also compared exactly.
      tlsOptions.checkServerIdentity = (_h, c) => {
        const got = derFingerprint(new Uint8Array(c.raw));
        return got === pin ? undefined : new PinMismatchError(pin, got);
      };
    }
    if (ca) tlsOptions.ca = ca;
    tlsOptions.rejectUnauthorized = rejectUnauthorized;
    if (!IP_RE.test(servername)) tlsOptions.servername = servername;
    tlsOptions.ALPNProtocols = ["http/1.1"];
    Object.assign(wsOptions, tlsOptions);
  }
  if (options.proxy) {
    const tcp = await dialViaProxy(options.proxy, u.host, u.port, timeoutMs);
    const plain = connToDuplex(tcp) as unknown as Duplex;
    preSocket = secure ? tls.connect({ ...tlsOptions, socket: plain }) : plain;
    const s = preSocket;
    (wsOptions as { createConnection?: () => Duplex }).createConnection = () => s;
  }
  const ws = new WebSocket(target, wsOptions);
  // Listen for messages from the start: the server's first message can arrive
  // in the same read as the upgrade response and is emitted right after
  // "open", before an awaiting caller would attach a listener.
  const conn = wsClientConn(ws as unknown as WsClientSocket);
  try {
    await deadline(
      new Promise<void>((resolve, reject) => {
        ws.once("open", () => resolve());
        ws.once("error", (e: Error) => reject(e));
        ws.once(
          "unexpected-response",
          (_req: unknown, res: { statusCode?: number }) =>
            reject(new TransportUrlError(target, `server answered HTTP ${res.statusCode}`)),
        );
        ws.once("close", () => reject(new DialError("unreachable")));
      }),
      timeoutMs,
      "WebSocket handshake",
    );
  } catch (e) {
    ws.terminate();
    preSocket?.destroy();
    if (e instanceof DialError || e instanceof TransportUrlError || e instanceof PinMismatchError) {
      throw e;
    }
    const code = (e as { code?: string }).code;
    if (code === "ECONNREFUSED") throw new DialError("refused");
    if (code === "ENOTFOUND" || code === "EHOSTUNREACH" || code === "ENETUNREACH") {
      throw new DialError("unreachable");
    }
    throw e;
  }
  return conn;
}

/**
 * The dialer for a scheme, in the shape `connectSsh({ dial })` takes: it
 * opens `scheme://host:port` with `options` and returns the byte stream the
 * SSH session runs on.
 *
 * @example
 * ```ts
 * import { parseTransportUrl, transportDialer } from "./mod.ts";
 * const u = parseTransportUrl("tls://127.0.0.1:443");
 * const dial = transportDialer(u.scheme, { fingerprint: "SHA256:" + "0".repeat(64) });
 * // await connectSsh({ host: u.host, port: u.port, dial, ... });
 * console.log(typeof dial); // "function"
 * ```
 */
export function transportDialer(
  scheme: TransportScheme,
  options: DialOptions = {},
): (host: string, port: number) => Promise<ByteConn> {
  if (options.proxy && typeof options.proxy === "string") parseProxyUrl(options.proxy);
  switch (scheme) {
    case "tcp":
      return (host, port) => dialTcpVia(host, port, options);
    case "tls":
      return (host, port) => dialTls(host, port, options);
    case "quic":
      if (options.proxy) {
        throw new TransportUrlError("quic://", "QUIC cannot go through a TCP proxy");
      }
      return (host, port) => dialQuicStream(host, port, options);
    case "ws":
    case "wss":
      return (host, port) =>
        dialWebSocket({ scheme, host, port, path: options.wsPath ?? WS_SSH_PATH }, options);
  }
}
