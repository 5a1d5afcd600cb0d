/**
 * The WebSocket call server: `/alknet/call`, one envelope per binary
 * message, authenticated by `Authorization: Bearer <token or API key>` at
 * the upgrade (a refused token is HTTP 401 with the reason in the body).
 * {@link callWebSocketHandler} mounts in any `Deno.serve` handler;
 * {@link serveCallWebSocket} runs one on its own port.
 *
 * @module
 */

import { hostPort } from "@alknet/core/transport";
import type { Identity } from "./access.ts";
import type { CallServer, ServeCallOptions, ServedConnectionOptions } from "./carrier_stream.ts";
import { type CertificateSource, readCertificate } from "./carrier_tls.ts";
import { CallConnection } from "./connection.ts";
import type { Authenticate } from "./incoming.ts";
import type { OperationRouter } from "./router.ts";
import { type WebSocketLike, webSocketTransport } from "./ws_transport.ts";

/**
 * The HTTP path of the WebSocket carrier.
 *
 * @example
 * ```ts
 * import { CALL_WS_PATH } from "@alknet/call";
 * console.log(CALL_WS_PATH); // "/alknet/call"
 * ```
 */
export const CALL_WS_PATH = "/alknet/call";

/**
 * Options of {@link callWebSocketHandler}.
 *
 * @example
 * ```ts
 * import { OperationRegistry, type WebSocketHandlerOptions } from "@alknet/call";
 * const opts: WebSocketHandlerOptions = {
 *   registry: new OperationRegistry(),
 *   authenticate: (t) => (t === "secret" ? { id: "me", scopes: [], resources: {} } : null),
 *   onConnection: (c) => console.log("call connection", c.id),
 * };
 * console.log(opts.path ?? "/alknet/call");
 * ```
 */
export interface WebSocketHandlerOptions {
  /** The operations served. */
  registry: OperationRouter;
  /** Verifies the bearer token or API key; absent, callers are anonymous. */
  authenticate?: Authenticate;
  /** Path to serve (default `/alknet/call`). */
  path?: string;
  /** Called with each new connection. */
  onConnection?: (connection: CallConnection) => void;
  /** Extra connection options. */
  connection?: ServedConnectionOptions;
}

function unauthorized(reason: string): Response {
  return new Response(`401 Unauthorized: ${reason}\n`, {
    status: 401,
    headers: { "www-authenticate": 'Bearer realm="alknet"', "content-type": "text/plain" },
  });
}

/** Who the bearer token stands for, or the reason it was refused. */
async function bearerIdentity(
  request: Request,
  authenticate: Authenticate,
): Promise<Identity | string> {
  const header = request.headers.get("authorization") ?? "";
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return header === "" ? "missing bearer token" : "malformed Authorization header";
  try {
    return (await authenticate(m[1])) ?? "invalid or expired token";
  } catch {
    return "the token could not be verified";
  }
}

/**
 * A request handler for the WebSocket carrier, to mount in any `Deno.serve`
 * handler (the endpoint's HTTP side): 404 off-path, 401 without a valid
 * bearer token (the body says why), 426 without an upgrade, else a call
 * connection.
 *
 * @example
 * ```ts
 * import { callWebSocketHandler, OperationRegistry } from "@alknet/call";
 * const registry = new OperationRegistry();
 * const handler = callWebSocketHandler({ registry, authenticate: () => null });
 * const res = await handler(new Request("http://localhost/alknet/call"));
 * console.log(res.status, await res.text()); // 401 "401 Unauthorized: missing bearer token\n"
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
    let identity: Identity | null = null;
    if (options.authenticate) {
      const who = await bearerIdentity(request, options.authenticate);
      if (typeof who === "string") return unauthorized(who);
      identity = who;
    }
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
 * Options of {@link serveCallWebSocket}: those of every server, the path,
 * and a certificate for `wss://`.
 *
 * @example
 * ```ts
 * import { OperationRegistry, type ServeCallWebSocketOptions } from "@alknet/call";
 * const opts: ServeCallWebSocketOptions = { port: 8080, registry: new OperationRegistry() };
 * console.log(opts.port);
 * ```
 */
export interface ServeCallWebSocketOptions extends ServeCallOptions, CertificateSource {
  /** Path to serve (default `/alknet/call`). */
  path?: string;
}

/**
 * A WebSocket call server on its own port: `ws://`, or `wss://` when a
 * certificate is given.
 *
 * @example
 * ```ts
 * import {
 *   connectCall,
 *   OperationRegistry,
 *   registerNodeOperations,
 *   serveCallWebSocket,
 * } from "@alknet/call";
 * const registry = new OperationRegistry();
 * registerNodeOperations(registry, { version: "0.1.0" });
 * const server = await serveCallWebSocket({
 *   registry,
 *   authenticate: (t) => (t === "secret" ? { id: "me", scopes: [], resources: {} } : null),
 * });
 * console.log(server.url); // ws://127.0.0.1:PORT/alknet/call
 * const conn = await connectCall(server.url, { token: "secret" });
 * console.log(await conn.call("node/ping", "hi")); // "hi"
 * await conn.close();
 * await server.close();
 * ```
 */
export async function serveCallWebSocket(options: ServeCallWebSocketOptions): Promise<CallServer> {
  const pair = await readCertificate("serveCallWebSocket", options);
  const conns = new Set<CallConnection>();
  const handler = callWebSocketHandler({
    registry: options.registry,
    authenticate: options.authenticate,
    path: options.path,
    connection: options.connection,
    onConnection: (c) => {
      conns.add(c);
      void c.closed.then(() => conns.delete(c));
    },
  });
  const hostname = options.hostname ?? "127.0.0.1";
  const serve = (port: number) =>
    Deno.serve({ hostname, port, onListen: () => {}, ...(pair ?? {}) }, handler);
  let server = serve(options.port ?? 0);
  const addr = server.addr as Deno.NetAddr;
  let closing = false;
  // Deno.serve's accept loop ends at the first failed accept (EMFILE when
  // the process is out of descriptors), closing the listener: serve again
  // on the same port, retrying after 5 ms doubling to 1 s.
  const supervise = (s: Deno.HttpServer) => {
    s.finished.then(() => {}, async () => {
      for (let delay = 5; !closing; delay = Math.min(delay * 2, 1000)) {
        await new Promise((r) => setTimeout(r, delay));
        if (closing) return;
        try {
          server = serve(addr.port);
        } catch {
          continue; // still out of descriptors, or the port is held a moment longer
        }
        supervise(server);
        return;
      }
    });
  };
  supervise(server);
  const scheme = pair ? "wss" : "ws";
  return {
    addr,
    url: `${scheme}://${hostPort(addr.hostname, addr.port)}${options.path ?? CALL_WS_PATH}`,
    connections: conns,
    async close() {
      closing = true;
      await Promise.all([...conns].map((c) => c.close()));
      await server.shutdown().catch(() => {});
    },
  };
}
