/**
 * Framed carriers: the call protocol over any byte duplex (the SSH
 * `alknet-control` channel, a TLS connection the endpoint already accepted),
 * a plain TCP listener, and TCP/TLS clients. Every Deno TCP connection gets
 * `setNoDelay(true)`.
 *
 * @module
 */

import type { Identity } from "./access.ts";
import { type Authenticate, CallConnection, type ConnectionOptions } from "./connection.ts";
import { ConnectError } from "./errors.ts";
import type { OperationRouter } from "./registry.ts";
import { type ByteDuplex, framedTransport, fromNodeDuplex } from "./transport.ts";
import tls from "node:tls";

/**
 * The TLS ALPN protocol id of the call protocol.
 *
 * @example
 * ```ts
 * import { CALL_ALPN } from "./carrier_stream.ts";
 * console.log(CALL_ALPN); // "alknet/call"
 * ```
 */
export const CALL_ALPN = "alknet/call";

/**
 * Options for serving calls on one accepted byte stream.
 *
 * @example
 * ```ts
 * import type { ServeDuplexOptions } from "./carrier_stream.ts";
 * import { OperationRegistry } from "./registry.ts";
 * const opts: ServeDuplexOptions = {
 *   registry: new OperationRegistry(),
 *   identity: { id: "SHA256:abc", scopes: ["relay:connect"], resources: {} },
 * };
 * ```
 */
export interface ServeDuplexOptions {
  /** The operations served (a registry or a composite environment). */
  registry: OperationRouter;
  /** The peer's identity when the carrier authenticated it (SSH). */
  identity?: Identity | null;
  /** Verifies `auth_token` of requests (TLS, TCP). */
  authenticate?: Authenticate;
  /** Refuse requests until the peer is authenticated (default: true when no identity is given and `authenticate` is). */
  requireAuth?: boolean;
  /** Extra connection options (timeouts, id, ...). */
  connection?: Omit<ConnectionOptions, "router" | "identity" | "authenticate" | "requireAuth">;
}

/**
 * Serves the call protocol on one byte duplex with length-prefixed frames:
 * the SSH `alknet-control` channel (pass the session's `identity`) or an
 * accepted TLS/TCP connection (pass `authenticate`). The same connection can
 * call the peer back.
 *
 * @example
 * ```ts
 * import { OperationRegistry, serveCallDuplex } from "./mod.ts";
 * const registry = new OperationRegistry();
 * registry.register({ name: "demo/echo", type: "query", handler: (x) => x });
 * // In the SSH server, on a direct-tcpip channel to alknet-control:
 * const channel = new TransformStream<Uint8Array, Uint8Array>(); // stands in for the channel
 * const conn = serveCallDuplex(
 *   { readable: channel.readable, writable: channel.writable },
 *   { registry, identity: { id: "SHA256:abc", scopes: ["relay:connect"], resources: {} } },
 * );
 * await conn.close();
 * ```
 */
export function serveCallDuplex(duplex: ByteDuplex, options: ServeDuplexOptions): CallConnection {
  const requireAuth = options.requireAuth ??
    ((options.identity ?? null) === null && options.authenticate !== undefined);
  return new CallConnection(framedTransport(duplex), {
    ...options.connection,
    router: options.registry,
    identity: options.identity ?? null,
    authenticate: options.authenticate,
    requireAuth,
  });
}

/**
 * A running call server.
 *
 * @example
 * ```ts
 * import { type CallServer, OperationRegistry, serveCallTcp } from "./mod.ts";
 * const server: CallServer = serveCallTcp({ port: 0, registry: new OperationRegistry() });
 * console.log(server.addr.port, server.connections.size);
 * await server.close();
 * ```
 */
export interface CallServer {
  /** The bound address (port 0 resolved). */
  readonly addr: Deno.NetAddr;
  /** Open connections. */
  readonly connections: ReadonlySet<CallConnection>;
  /** Stops accepting, closes every connection and resolves when done. */
  close(): Promise<void>;
}

/**
 * The least a byte stream needs for {@link duplexFromConn}: direct reads and
 * writes and a close (a TLS/QUIC stream from the transport layer, say).
 *
 * @example
 * ```ts
 * import type { ReadWriteConn } from "./carrier_stream.ts";
 * const conn: ReadWriteConn = {
 *   read: () => Promise.resolve(null),
 *   write: (b) => Promise.resolve(b.length),
 *   close: () => {},
 * };
 * ```
 */
export interface ReadWriteConn {
  /** Reads into the buffer; resolves to the count or null at end of stream. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Writes some of the buffer; resolves to the count written. */
  write(data: Uint8Array): Promise<number>;
  /** Closes both directions. */
  close(): void;
}

function pullingReadable(conn: ReadWriteConn): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      const buf = new Uint8Array(64 * 1024);
      const n = await conn.read(buf).catch(() => null);
      if (n === null) c.close();
      else c.enqueue(buf.subarray(0, n));
    },
  }, { highWaterMark: 0 });
}

function pushingWritable(conn: ReadWriteConn): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({
    async write(chunk) {
      for (let off = 0; off < chunk.length;) off += await conn.write(chunk.subarray(off));
    },
  });
}

function noDelay(conn: unknown): void {
  const c = conn as { setNoDelay?: (v: boolean) => void };
  try {
    c.setNoDelay?.(true);
  } catch {
    // not a TCP socket
  }
}

/**
 * A {@link ByteDuplex} over a `Deno.Conn` (TCP or TLS), or any
 * {@link ReadWriteConn}, that reads and writes
 * the connection directly (its streams are only created if asked for) and
 * closes it when the transport closes. Use it for connections the endpoint
 * accepted itself, e.g. TLS connections with ALPN `alknet/call`.
 *
 * @example
 * ```ts
 * import { duplexFromConn, OperationRegistry, serveCallDuplex } from "./mod.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const registry = new OperationRegistry();
 * const accepting = listener.accept().then((conn) =>
 *   serveCallDuplex(duplexFromConn(conn), { registry, authenticate: () => null })
 * );
 * const client = await Deno.connect({ hostname: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port });
 * client.close();
 * await (await accepting).closed;
 * listener.close();
 * ```
 */
export function duplexFromConn(conn: Deno.Conn | ReadWriteConn): ByteDuplex {
  noDelay(conn);
  let readable: ReadableStream<Uint8Array> | undefined;
  let writable: WritableStream<Uint8Array> | undefined;
  return {
    // Built only when asked for: the connection reads through `read`, and a
    // stream that pulled on its own would race those reads.
    get readable() {
      return readable ??= "readable" in conn ? conn.readable : pullingReadable(conn);
    },
    get writable() {
      return writable ??= "writable" in conn ? conn.writable : pushingWritable(conn);
    },
    read: (b) => conn.read(b),
    write: (b) => conn.write(b),
    close: () => {
      try {
        conn.close();
      } catch {
        // already closed
      }
    },
  };
}

/**
 * Options of {@link serveCallTcp}.
 *
 * @example
 * ```ts
 * import type { ServeTcpOptions } from "./carrier_stream.ts";
 * import { OperationRegistry } from "./registry.ts";
 * const opts: ServeTcpOptions = { hostname: "127.0.0.1", port: 0, registry: new OperationRegistry() };
 * ```
 */
export interface ServeTcpOptions extends Omit<ServeDuplexOptions, "identity"> {
  /** Address to bind (default 127.0.0.1). */
  hostname?: string;
  /** Port (0 picks one). */
  port: number;
}

/** Accept loop shared by the TCP and TLS servers. */
export function acceptLoop(
  listener: Deno.Listener,
  accept: (conn: Deno.Conn) => Promise<CallConnection | null>,
): CallServer {
  const conns = new Set<CallConnection>();
  const raw = new Set<Deno.Conn>();
  let closing = false;
  const loop = (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        return;
      }
      if (closing) {
        conn.close();
        continue;
      }
      noDelay(conn);
      raw.add(conn);
      accept(conn).then((c) => {
        raw.delete(conn);
        if (!c) return;
        if (closing) {
          void c.close();
          return;
        }
        conns.add(c);
        void c.closed.then(() => conns.delete(c));
      }, () => {
        raw.delete(conn);
        try {
          conn.close();
        } catch {
          // closed
        }
      });
    }
  })();
  return {
    addr: listener.addr as Deno.NetAddr,
    connections: conns,
    async close() {
      closing = true;
      try {
        listener.close();
      } catch {
        // closed
      }
      await loop;
      for (const c of raw) {
        try {
          c.close();
        } catch {
          // closed
        }
      }
      await Promise.all([...conns].map((c) => c.close()));
    },
  };
}

/**
 * A plain TCP call server (framed envelopes; tokens in `auth_token`). For
 * loopback and trusted networks; use TLS elsewhere.
 *
 * @example
 * ```ts
 * import { OperationRegistry, registerNodeOperations, serveCallTcp } from "./mod.ts";
 * const registry = new OperationRegistry();
 * registerNodeOperations(registry, { version: "0.1.0" });
 * const server = serveCallTcp({ hostname: "127.0.0.1", port: 0, registry });
 * console.log(server.addr.port);
 * await server.close();
 * ```
 */
export function serveCallTcp(options: ServeTcpOptions): CallServer {
  const listener = Deno.listen({ hostname: options.hostname ?? "127.0.0.1", port: options.port });
  return acceptLoop(
    listener,
    (conn) => Promise.resolve(serveCallDuplex(duplexFromConn(conn), options)),
  );
}

/**
 * Options of {@link connectCallTcp}.
 *
 * @example
 * ```ts
 * import type { ConnectTcpOptions } from "./carrier_stream.ts";
 * const opts: ConnectTcpOptions = { hostname: "127.0.0.1", port: 7000, authToken: "token" };
 * ```
 */
export interface ConnectTcpOptions extends ConnectionOptions {
  /** Host (default 127.0.0.1). */
  hostname?: string;
  /** Port. */
  port: number;
}

/**
 * Connects to a framed call server over TCP (NODELAY set).
 *
 * @example
 * ```ts
 * import { connectCallTcp, OperationRegistry, registerNodeOperations, serveCallTcp } from "./mod.ts";
 * const registry = new OperationRegistry();
 * registerNodeOperations(registry, { version: "0.1.0" });
 * const server = serveCallTcp({ port: 0, registry });
 * const conn = await connectCallTcp({ hostname: "127.0.0.1", port: server.addr.port });
 * console.log(await conn.call("node/ping", 1)); // 1
 * await conn.close();
 * await server.close();
 * ```
 */
export async function connectCallTcp(options: ConnectTcpOptions): Promise<CallConnection> {
  const hostname = options.hostname ?? "127.0.0.1";
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname, port: options.port });
  } catch (e) {
    throw new ConnectError(`tcp://${hostname}:${options.port}`, (e as Error).message, { cause: e });
  }
  conn.setNoDelay(true);
  return new CallConnection(framedTransport(duplexFromConn(conn)), options);
}

/**
 * Options of {@link connectCallTls}.
 *
 * @example
 * ```ts
 * import type { ConnectTlsOptions } from "./carrier_stream.ts";
 * const opts: ConnectTlsOptions = { hostname: "node.example", port: 443, authToken: "token", caCerts: [] };
 * ```
 */
export interface ConnectTlsOptions extends ConnectTcpOptions {
  /** Server name for SNI and verification (default: hostname). */
  serverName?: string;
  /** Extra trusted CA certificates (PEM). */
  caCerts?: string[];
  /** Skip certificate verification (testing only; uses `node:tls`, which can). */
  insecure?: boolean;
}

/**
 * Connects over TLS with ALPN `alknet/call`: TCP first (NODELAY set), then
 * `Deno.startTls`. Pass `authToken` to authenticate the first request.
 *
 * @example
 * ```ts
 * import { connectCallTls } from "./mod.ts";
 * // A listener that is closed again: connecting fails with a ConnectError.
 * const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const port = (l.addr as Deno.NetAddr).port;
 * l.close();
 * const conn = await connectCallTls({ hostname: "127.0.0.1", port, authToken: "token" }).catch((e) => e);
 * console.log(conn instanceof Error ? conn.message : await conn.call("node/info", {}));
 * ```
 */
export async function connectCallTls(options: ConnectTlsOptions): Promise<CallConnection> {
  const hostname = options.hostname ?? "127.0.0.1";
  const target = `tls://${hostname}:${options.port}`;
  if (options.insecure) return await connectInsecure(options, hostname, target);
  let tcp: Deno.TcpConn;
  try {
    tcp = await Deno.connect({ hostname, port: options.port });
  } catch (e) {
    throw new ConnectError(target, (e as Error).message, { cause: e });
  }
  tcp.setNoDelay(true);
  let tls: Deno.TlsConn;
  try {
    tls = await Deno.startTls(tcp, {
      hostname: options.serverName ?? hostname,
      caCerts: options.caCerts,
      alpnProtocols: [CALL_ALPN],
    });
    await tls.handshake();
  } catch (e) {
    try {
      tcp.close();
    } catch {
      // closed
    }
    throw new ConnectError(target, `TLS handshake failed: ${(e as Error).message}`, { cause: e });
  }
  return new CallConnection(framedTransport(duplexFromConn(tls)), options);
}

async function connectInsecure(
  options: ConnectTlsOptions,
  hostname: string,
  target: string,
): Promise<CallConnection> {
  const sock = tls.connect({
    host: hostname,
    port: options.port,
    servername: options.serverName ?? (/^[\d.:]+$/.test(hostname) ? undefined : hostname),
    rejectUnauthorized: false,
    ALPNProtocols: [CALL_ALPN],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once("secureConnect", () => resolve());
      sock.once("error", reject);
    });
  } catch (e) {
    sock.destroy();
    throw new ConnectError(target, (e as Error).message, { cause: e });
  }
  sock.setNoDelay(true);
  return new CallConnection(
    framedTransport(fromNodeDuplex(sock)),
    options,
  );
}
