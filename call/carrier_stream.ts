/**
 * Serving the call protocol on byte streams: {@link acceptCallStream} on one
 * accepted stream (the SSH `alknet-control` channel, an `alknet/call` TLS,
 * QUIC or iroh stream), and {@link serveCallTcp}, a plain TCP server. Also
 * the shape every `serveCall*` server shares: {@link ServeCallOptions} in,
 * a {@link CallServer} out.
 *
 * @module
 */

import { ALPN_CALL, hostPort } from "@alknet/core/transport";
import type { Identity } from "./access.ts";
import { type ByteDuplex, duplexFromConn, noDelay } from "./byte_duplex.ts";
import { CallConnection, type ConnectionOptions } from "./connection.ts";
import { framedTransport } from "./framed.ts";
import type { Authenticate } from "./incoming.ts";
import type { OperationRouter } from "./router.ts";

/**
 * The TLS, QUIC and iroh ALPN of the call protocol.
 *
 * @example
 * ```ts
 * import { CALL_ALPN } from "@alknet/call";
 * console.log(CALL_ALPN); // "alknet/call"
 * ```
 */
export const CALL_ALPN: string = ALPN_CALL;

/**
 * Connection options a server passes to each connection it accepts.
 *
 * @example
 * ```ts
 * import type { ServedConnectionOptions } from "@alknet/call";
 * const o: ServedConnectionOptions = { defaultTimeoutMs: 5_000 };
 * console.log(o.defaultTimeoutMs);
 * ```
 */
export type ServedConnectionOptions = Omit<
  ConnectionOptions,
  "router" | "identity" | "authenticate" | "requireAuth"
>;

/**
 * Options for serving calls on one accepted byte stream.
 *
 * @example
 * ```ts
 * import { type AcceptCallStreamOptions, OperationRegistry } from "@alknet/call";
 * const opts: AcceptCallStreamOptions = {
 *   registry: new OperationRegistry(),
 *   identity: { id: "SHA256:abc", scopes: ["relay:connect"], resources: {} },
 * };
 * console.log(opts.identity?.id);
 * ```
 */
export interface AcceptCallStreamOptions {
  /** The operations served (a registry or a composite environment). */
  registry: OperationRouter;
  /** The peer's identity when the carrier authenticated it (SSH). */
  identity?: Identity | null;
  /** Verifies the token or API key in `auth_token` of requests (TLS, QUIC, TCP). */
  authenticate?: Authenticate;
  /**
   * Refuse requests until the peer is authenticated (default: true when no
   * identity is given and `authenticate` is).
   */
  requireAuth?: boolean;
  /** Extra connection options (timeouts, id, ...). */
  connection?: ServedConnectionOptions;
}

/**
 * Serves the call protocol on one byte stream with length-prefixed frames:
 * the SSH `alknet-control` channel (pass the session's `identity`) or an
 * accepted TLS/QUIC/TCP stream (pass `authenticate`). The same connection
 * can call the peer back.
 *
 * @example
 * ```ts
 * import { acceptCallStream, OperationRegistry } from "@alknet/call";
 * const registry = new OperationRegistry();
 * registry.register({ name: "demo/echo", type: "query", handler: (x) => x });
 * // In an SSH server, on a direct-tcpip channel to alknet-control:
 * const channel = new TransformStream<Uint8Array, Uint8Array>(); // stands in for the channel
 * const conn = acceptCallStream(
 *   { readable: channel.readable, writable: channel.writable },
 *   { registry, identity: { id: "SHA256:abc", scopes: ["relay:connect"], resources: {} } },
 * );
 * await conn.close();
 * ```
 */
export function acceptCallStream(
  stream: ByteDuplex,
  options: AcceptCallStreamOptions,
): CallConnection {
  const identity = options.identity ?? null;
  const requireAuth = options.requireAuth ??
    (identity === null && options.authenticate !== undefined);
  return new CallConnection(framedTransport(stream), {
    ...options.connection,
    router: options.registry,
    identity,
    authenticate: options.authenticate,
    requireAuth,
  });
}

/**
 * What every `serveCall*` server takes: the operations, where to listen, and
 * how callers authenticate. Without `authenticate` callers are anonymous
 * (operations that require scopes then answer FORBIDDEN); with it, every
 * connection must present a valid token or API key (`auth_token` of the
 * first request on TCP and TLS, the `Authorization: Bearer` header on the
 * WebSocket).
 *
 * @example
 * ```ts
 * import { OperationRegistry, type ServeCallOptions } from "@alknet/call";
 * const opts: ServeCallOptions = {
 *   registry: new OperationRegistry(),
 *   authenticate: (t) => (t === "secret" ? { id: "me", scopes: [], resources: {} } : null),
 * };
 * console.log(opts.port ?? 0);
 * ```
 */
export interface ServeCallOptions {
  /** The operations served (a registry or a composite environment). */
  registry: OperationRouter;
  /** Address to bind (default 127.0.0.1). */
  hostname?: string;
  /** Port (default 0: the system picks one; see `CallServer.addr`). */
  port?: number;
  /** Verifies tokens and API keys; absent, callers are anonymous. */
  authenticate?: Authenticate;
  /** Extra options of every accepted connection. */
  connection?: ServedConnectionOptions;
}

/**
 * A running call server, as every `serveCall*` function returns it.
 *
 * @example
 * ```ts
 * import { type CallServer, connectCall, OperationRegistry, serveCallTcp } from "@alknet/call";
 * const server: CallServer = await serveCallTcp({ registry: new OperationRegistry() });
 * const conn = await connectCall(server.url); // "tcp://127.0.0.1:PORT"
 * console.log(server.addr.port > 0, server.connections.size); // true 1
 * await conn.close();
 * await server.close();
 * ```
 */
export interface CallServer {
  /** The bound address (port 0 resolved). */
  readonly addr: Deno.NetAddr;
  /** The URL a client passes to `connectCall` (`tcp://`, `tls://`, `ws://`, `wss://`). */
  readonly url: string;
  /** Open connections. */
  readonly connections: ReadonlySet<CallConnection>;
  /** Stops accepting, closes every connection and resolves when done. */
  close(): Promise<void>;
}

/** Accept loop shared by the TCP and TLS servers. */
export function acceptLoop(
  listener: Deno.Listener,
  scheme: "tcp" | "tls",
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
      const drop = () => {
        raw.delete(conn);
        try {
          conn.close();
        } catch {
          // closed
        }
      };
      accept(conn).then((c) => {
        if (!c) return drop();
        raw.delete(conn);
        if (closing) {
          void c.close();
          return;
        }
        conns.add(c);
        void c.closed.then(() => conns.delete(c));
      }, drop);
    }
  })();
  const addr = listener.addr as Deno.NetAddr;
  return {
    addr,
    url: `${scheme}://${hostPort(addr.hostname, addr.port)}`,
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
 * console.log(await conn.call("node/ping", 1)); // 1
 * await conn.close();
 * await server.close();
 * ```
 */
export function serveCallTcp(options: ServeCallOptions): Promise<CallServer> {
  try {
    const listener = Deno.listen({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port ?? 0,
    });
    return Promise.resolve(
      acceptLoop(
        listener,
        "tcp",
        (conn) => Promise.resolve(serveOn(duplexFromConn(conn), options)),
      ),
    );
  } catch (e) {
    return Promise.reject(e);
  }
}

/** Serves one accepted stream of a server: authenticated by token when `authenticate` is given. */
export function serveOn(stream: ByteDuplex, options: ServeCallOptions): CallConnection {
  return acceptCallStream(stream, {
    registry: options.registry,
    authenticate: options.authenticate,
    requireAuth: options.authenticate !== undefined,
    connection: options.connection,
  });
}
