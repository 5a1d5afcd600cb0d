/**
 * The WebSocket carrier: `/alknet/call`, authenticated by
 * `Authorization: Bearer <token>`, one envelope per binary message. The
 * server uses `Deno.serve` + `Deno.upgradeWebSocket`; the client uses
 * `npm:ws` (its sockets have TCP_NODELAY, Deno's built-in client does not).
 *
 * @module
 */

// @ts-types="@types/ws"
import WebSocket from "ws";
import type { Identity } from "./access.ts";
import type { CallServer } from "./carrier_stream.ts";
import { type Authenticate, CallConnection, type ConnectionOptions } from "./connection.ts";
import { ConnectError } from "./errors.ts";
import type { OperationRouter } from "./registry.ts";
import { type WebSocketLike, webSocketTransport } from "./transport.ts";

/**
 * The HTTP path of the WebSocket carrier.
 *
 * @example
 * ```ts
 * import { CALL_WS_PATH } from "./carrier_ws.ts";
 * console.log(CALL_WS_PATH); // "/alknet/call"
 * ```
 */
export const CALL_WS_PATH = "/alknet/call";

/**
 * Options of {@link callWebSocketHandler}.
 *
 * @example
 * ```ts
 * import type { WebSocketHandlerOptions } from "./carrier_ws.ts";
 * import { OperationRegistry } from "./registry.ts";
 * const opts: WebSocketHandlerOptions = {
 *   registry: new OperationRegistry(),
 *   authenticate: (t) => (t === "secret" ? { id: "me", scopes: [], resources: {} } : null),
 *   onConnection: (c) => console.log("call connection", c.id),
 * };
 * ```
 */
export interface WebSocketHandlerOptions {
  /** The operations served. */
  registry: OperationRouter;
  /** Verifies the bearer token; null (or a throw) answers HTTP 401. */
  authenticate: Authenticate;
  /** Path to serve (default `/alknet/call`). */
  path?: string;
  /** Called with each new connection. */
  onConnection?: (connection: CallConnection) => void;
  /** Extra connection options. */
  connection?: Omit<ConnectionOptions, "router" | "identity" | "authenticate" | "requireAuth">;
}

function unauthorized(reason: string): Response {
  return new Response(`401 Unauthorized: ${reason}\n`, {
    status: 401,
    headers: { "www-authenticate": 'Bearer realm="alknet"', "content-type": "text/plain" },
  });
}

/**
 * A request handler for the WebSocket carrier, to mount in any `Deno.serve`
 * handler (the endpoint's HTTP side): 404 off-path, 401 without a valid
 * bearer token, 426 without an upgrade, else a call connection.
 *
 * @example
 * ```ts
 * import { callWebSocketHandler, OperationRegistry } from "./mod.ts";
 * const registry = new OperationRegistry();
 * const handler = callWebSocketHandler({ registry, authenticate: () => null });
 * const res = await handler(new Request("http://localhost/alknet/call"));
 * console.log(res.status); // 401
 * ```
 */
export function callWebSocketHandler(
  options: WebSocketHandlerOptions,
): (request: Request) => Promise<Response> {
  const path = options.path ?? CALL_WS_PATH;
  return async (request) => {
    if (new URL(request.url).pathname !== path) {
      return new Response("404 Not Found\n", { status: 404 });
    }
    const header = request.headers.get("authorization") ?? "";
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) return unauthorized("missing bearer token");
    let identity: Identity | null;
    try {
      identity = await options.authenticate(m[1]);
    } catch {
      identity = null;
    }
    if (!identity) return unauthorized("invalid or expired token");
    if ((request.headers.get("upgrade") ?? "").toLowerCase() !== "websocket") {
      return new Response("426 Upgrade Required\n", {
        status: 426,
        headers: { upgrade: "websocket" },
      });
    }
    const { socket, response } = Deno.upgradeWebSocket(request);
    const conn = new CallConnection(webSocketTransport(socket as unknown as WebSocketLike), {
      ...options.connection,
      router: options.registry,
      identity,
      authenticate: options.authenticate,
    });
    options.onConnection?.(conn);
    return response;
  };
}

/**
 * Options of {@link serveCallWebSocket}.
 *
 * @example
 * ```ts
 * import type { ServeWebSocketOptions } from "./carrier_ws.ts";
 * import { OperationRegistry } from "./registry.ts";
 * const opts: ServeWebSocketOptions = { port: 8080, registry: new OperationRegistry(), authenticate: () => null };
 * ```
 */
export interface ServeWebSocketOptions extends Omit<WebSocketHandlerOptions, "onConnection"> {
  /** Address to bind (default 127.0.0.1). */
  hostname?: string;
  /** Port (0 picks one). */
  port: number;
  /** Serve `wss://` with this certificate chain (PEM). */
  cert?: string;
  /** Private key (PEM) for `cert`. */
  key?: string;
}

/**
 * A WebSocket call server on its own port.
 *
 * @example
 * ```ts
 * import { OperationRegistry, registerNodeOperations, serveCallWebSocket } from "./mod.ts";
 * const registry = new OperationRegistry();
 * registerNodeOperations(registry, { version: "0.1.0" });
 * const server = serveCallWebSocket({
 *   hostname: "127.0.0.1", port: 0, registry,
 *   authenticate: (t) => (t === "secret" ? { id: "me", scopes: [], resources: {} } : null),
 * });
 * console.log(`ws://127.0.0.1:${server.addr.port}/alknet/call`);
 * await server.close();
 * ```
 */
export function serveCallWebSocket(options: ServeWebSocketOptions): CallServer {
  const conns = new Set<CallConnection>();
  const handler = callWebSocketHandler({
    ...options,
    onConnection: (c) => {
      conns.add(c);
      void c.closed.then(() => conns.delete(c));
    },
  });
  const tls = options.cert && options.key ? { cert: options.cert, key: options.key } : {};
  const server = Deno.serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port,
    onListen: () => {},
    ...tls,
  }, handler);
  return {
    addr: server.addr as Deno.NetAddr,
    connections: conns,
    async close() {
      await Promise.all([...conns].map((c) => c.close()));
      await server.shutdown();
    },
  };
}

/**
 * Options of {@link connectCallWebSocket}.
 *
 * @example
 * ```ts
 * import type { ConnectWebSocketOptions } from "./carrier_ws.ts";
 * const opts: ConnectWebSocketOptions = { url: "wss://node.example", token: "token" };
 * ```
 */
export interface ConnectWebSocketOptions extends ConnectionOptions {
  /** `ws://host:port` or `wss://host:port` (path defaults to `/alknet/call`). */
  url: string;
  /** Bearer token for the upgrade request. */
  token: string;
  /** Extra trusted CA certificates (PEM) for `wss://`. */
  caCerts?: string[];
  /** Skip certificate verification for `wss://` (testing only). */
  insecure?: boolean;
  /** Milliseconds to wait for the upgrade (default 10 000). */
  connectTimeoutMs?: number;
}

/**
 * Connects to a WebSocket call server with `npm:ws`; rejects with a
 * {@link ConnectError} (`unauthorized: true` on HTTP 401).
 *
 * @example
 * ```ts
 * import { connectCallWebSocket, OperationRegistry, serveCallWebSocket } from "./mod.ts";
 * const server = serveCallWebSocket({
 *   port: 0,
 *   registry: new OperationRegistry(),
 *   authenticate: (t) => (t === "t" ? { id: "me", scopes: [], resources: {} } : null),
 * });
 * const conn = await connectCallWebSocket({ url: `ws://127.0.0.1:${server.addr.port}`, token: "t" });
 * console.log((await conn.call<{ operations: unknown[] }>("services/list", {})).operations.length);
 * await conn.close();
 * const refused = await connectCallWebSocket({ url: `ws://127.0.0.1:${server.addr.port}`, token: "bad" })
 *   .catch((e) => e);
 * console.log(refused.unauthorized); // true (HTTP 401)
 * await server.close();
 * ```
 */
export function connectCallWebSocket(options: ConnectWebSocketOptions): Promise<CallConnection> {
  const u = new URL(options.url);
  if (u.pathname === "/" || u.pathname === "") u.pathname = CALL_WS_PATH;
  const target = u.toString();
  return new Promise((resolve, reject) => {
    let settled = false;
    const ws = new WebSocket(target, {
      headers: { authorization: `Bearer ${options.token}` },
      perMessageDeflate: false,
      handshakeTimeout: options.connectTimeoutMs ?? 10_000,
      ca: options.caCerts,
      rejectUnauthorized: !options.insecure,
    });
    const fail = (err: ConnectError) => {
      if (settled) return;
      settled = true;
      try {
        ws.terminate();
      } catch {
        // closed
      }
      reject(err);
    };
    ws.on("unexpected-response", (_req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      fail(new ConnectError(target, `HTTP ${status}`, { unauthorized: status === 401 }));
    });
    ws.on("error", (e: Error) => fail(new ConnectError(target, e.message, { cause: e })));
    ws.on("open", () => {
      if (settled) return;
      settled = true;
      const sock = (ws as unknown as { _socket?: { setNoDelay?: (v: boolean) => void } })._socket;
      sock?.setNoDelay?.(true);
      resolve(new CallConnection(webSocketTransport(ws as unknown as WebSocketLike), options));
    });
  });
}
