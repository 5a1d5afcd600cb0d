/**
 * The call protocol on a node's carriers, for `serve({ calls })` of
 * `@alknet/core`: `OperationRegistry.serveCallStream` (the SSH
 * `alknet-control` channel, `alknet/call` TLS, QUIC and iroh streams) and
 * `OperationRegistry.serveCallWebSocket` (`/alknet/call`) delegate here.
 * The shapes are core's `CallService`, matched structurally.
 *
 * @module
 */

import type { Identity } from "./access.ts";
import { duplexFromConn, type ReadWriteConn } from "./byte_duplex.ts";
import { acceptCallStream } from "./carrier_stream.ts";
import { callWebSocketHandler } from "./carrier_ws.ts";
import type { CallConnection } from "./connection.ts";
import type { Authenticate } from "./incoming.ts";
import type { OperationRouter } from "./router.ts";

/**
 * A byte stream a node accepted (a `ByteConn` of `@alknet/core`).
 *
 * @example
 * ```ts
 * import type { NodeCallConn } from "@alknet/call";
 * const closed: NodeCallConn = {
 *   read: () => Promise.resolve(null),
 *   write: (b) => Promise.resolve(b.length),
 *   close: () => {},
 * };
 * console.log(typeof closed.read); // "function"
 * ```
 */
export type NodeCallConn = ReadWriteConn;

/**
 * Who is on the other end of a node's carrier (core's `CallPeer`).
 *
 * @example
 * ```ts
 * import type { NodeCallPeer } from "@alknet/call";
 * const peer: NodeCallPeer = { transport: "ssh", identity: { id: "SHA256:x", scopes: [], resources: {} } };
 * console.log(peer.transport); // "ssh"
 * ```
 */
export interface NodeCallPeer {
  /** The identity the carrier authenticated (SSH login). */
  identity?: Identity;
  /**
   * Resolves a token or API key; resolves to null, or throws an error whose
   * message says why, when it is refused.
   */
  authenticate?: Authenticate;
  /** The transport the carrier arrived on. */
  transport: string;
  /** `ip:port` of the remote end, when known. */
  remote?: string;
  /** Hears each WebSocket connection once upgraded (the node closes revoked callers' ones). */
  onConnection?: (connection: CallConnection) => void;
}

/**
 * Serves `router` on one accepted byte stream until it closes: with the
 * carrier's identity (SSH), or with `auth_token` of the first request
 * checked by `peer.authenticate`.
 *
 * @example
 * ```ts
 * import { OperationRegistry, serveNodeCallStream } from "@alknet/call";
 * const registry = new OperationRegistry();
 * const conn = serveNodeCallStream(registry, {
 *   read: () => Promise.resolve(null),
 *   write: (b) => Promise.resolve(b.length),
 *   close: () => {},
 * }, { transport: "tls", authenticate: () => null });
 * await conn.closed;
 * console.log(conn.isClosed); // true
 * ```
 */
export function serveNodeCallStream(
  router: OperationRouter,
  conn: NodeCallConn,
  peer: NodeCallPeer,
): CallConnection {
  return acceptCallStream(duplexFromConn(conn), {
    registry: router,
    identity: peer.identity ?? null,
    authenticate: peer.authenticate,
  });
}

function unauthorized(reason: string): Response {
  return new Response(`401 Unauthorized: ${reason}\n`, {
    status: 401,
    headers: { "www-authenticate": 'Bearer realm="alknet"', "content-type": "text/plain" },
  });
}

/**
 * Answers a request for the `/alknet/call` WebSocket: upgrades it when the
 * bearer token resolves through `peer.authenticate`, else 401 whose body
 * says why (the message of the error `authenticate` threw, when it threw).
 *
 * @example
 * ```ts
 * import { OperationRegistry, serveNodeCallWebSocket } from "@alknet/call";
 * const registry = new OperationRegistry();
 * const res = await serveNodeCallWebSocket(
 *   registry,
 *   new Request("http://localhost/alknet/call", { headers: { authorization: "Bearer x" } }),
 *   { transport: "ws", authenticate: () => { throw new Error("token expired"); } },
 * );
 * console.log(res.status, await res.text()); // 401 "401 Unauthorized: token expired\n"
 * ```
 */
export async function serveNodeCallWebSocket(
  router: OperationRouter,
  request: Request,
  peer: NodeCallPeer,
): Promise<Response> {
  const check = peer.authenticate;
  let refusal: string | undefined;
  const authenticate: Authenticate | undefined = check
    ? async (token) => {
      try {
        return await check(token);
      } catch (e) {
        refusal = (e as Error)?.message || "token refused";
        return null;
      }
    }
    : undefined;
  const response = await callWebSocketHandler({
    registry: router,
    authenticate,
    onConnection: peer.onConnection,
  })(request);
  if (response.status === 401 && refusal !== undefined) {
    await response.body?.cancel();
    return unauthorized(refusal);
  }
  return response;
}
