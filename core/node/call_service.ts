/**
 * What `serve()` needs from a call registry to serve the call protocol on
 * every carrier. `@alknet/core` does not import `@alknet/call`: the call
 * package's `OperationRegistry` satisfies this interface structurally, so a
 * user passes the registry itself as `serve({ calls })`.
 *
 * @module
 */

import type { ByteConn } from "../transport/stream.ts";
import type { Identity } from "../auth/identity.ts";
import type { NodeOperationDefinition } from "../ssh/node_operations.ts";

/**
 * The HTTP path of the call protocol's WebSocket carrier.
 */
export const CALL_WEBSOCKET_PATH = "/alknet/call";

/**
 * Who is on the other end of a carrier, as far as the node knows at accept time.
 *
 * @example
 * ```ts
 * import type { CallPeer } from "@alknet/core";
 * const peer: CallPeer = { transport: "tls", remote: "127.0.0.1:50000", authenticate: () => null };
 * console.log(peer.transport); // "tls"
 * ```
 */
export interface CallPeer {
  /** The identity, when the carrier already authenticated it (SSH `alknet-control`). */
  identity?: Identity;
  /**
   * Resolves a bearer token or API key sent in-band (raw `alknet/call`
   * streams, where the first request carries `auth_token`) or in the
   * WebSocket `Authorization` header. Resolves to null, or throws an error
   * whose message says why (the WebSocket carrier puts it in the 401 body),
   * when the token is refused.
   */
  authenticate?: (token: string) => Identity | null | Promise<Identity | null>;
  /** The transport the carrier arrived on (`ssh`, `tls`, `quic`, `ws`, `wss`, `iroh`, `tcp`). */
  transport: string;
  /** `ip:port` of the remote end, when known. */
  remote?: string;
  /**
   * Called with each WebSocket call connection once upgraded (streams are
   * the session `serveCallStream` returns): the node closes those of
   * identities its provider revokes.
   */
  onConnection?: (session: CallSession) => void;
}

/**
 * A running call connection, as far as the node needs to manage it.
 *
 * @example
 * ```ts
 * import type { CallSession } from "@alknet/core";
 * const idle: CallSession = { closed: Promise.resolve(), close: () => {} };
 * await idle.closed;
 * ```
 */
export interface CallSession {
  /** Settles when the connection has closed. */
  readonly closed: Promise<unknown>;
  /** Closes the connection; pending calls fail with "connection closed". */
  close(): unknown;
}

export type { NodeOperationDefinition } from "../ssh/node_operations.ts";

/**
 * How a worker serves its operations to a mesh head on a stream it dialled
 * (`connect(target, { worker })`): the name it registers as, and who the
 * head is.
 *
 * @example
 * ```ts
 * import type { WorkerLinkOptions } from "@alknet/core";
 * const o: WorkerLinkOptions = { name: "w1", head: { id: "SHA256:head", scopes: ["*"], resources: {} } };
 * console.log(o.name); // "w1"
 * ```
 */
export interface WorkerLinkOptions {
  /** The name to register as at the head. */
  name: string;
  /** Calls from the head run as this identity. */
  head: Identity;
}

/**
 * A worker's registered call connection to its head.
 *
 * @example
 * ```ts
 * import type { WorkerLinkSession } from "@alknet/core";
 * const link: WorkerLinkSession = {
 *   registered: Promise.resolve({ name: "w1" }), closed: new Promise(() => {}), close: () => {},
 * };
 * console.log(await link.registered); // { name: "w1" }
 * ```
 */
export interface WorkerLinkSession extends CallSession {
  /**
   * Resolves once the head accepted the name; rejects (and the connection
   * closes) when it refused, with an error whose `code` says why
   * (`FORBIDDEN`, `NAME_TAKEN`, `NAME_REFUSED`).
   */
  readonly registered: Promise<unknown>;
}

/**
 * The call protocol server side, structurally. `OperationRegistry` from
 * `@alknet/call` implements it.
 *
 * @example
 * ```ts
 * import type { CallService } from "@alknet/core";
 * function carriers(calls: CallService) {
 *   return typeof calls.serveCallStream === "function";
 * }
 * console.log(carriers({
 *   serveCallStream: () => ({ closed: Promise.resolve(), close: () => {} }),
 *   serveCallWebSocket: () => new Response(null, { status: 401 }),
 * })); // true
 * ```
 */
export interface CallService {
  /**
   * Serves the call protocol (length-prefixed JSON frames) on one byte
   * stream until it closes.
   */
  serveCallStream(conn: ByteConn, peer: CallPeer): CallSession;
  /**
   * Answers an HTTP request for the `/alknet/call` WebSocket: upgrades it
   * when the `Authorization: Bearer` token resolves through
   * `peer.authenticate`, otherwise answers 401 with a body saying why.
   */
  serveCallWebSocket(request: Request, peer: CallPeer): Response | Promise<Response>;
  /**
   * Registers an operation; `serve()` uses it for the node's built-in
   * operations (`nodeOperations` option) when present.
   */
  register?(definition: NodeOperationDefinition): unknown;
  /** Removes an operation; `serve()` removes its built-ins at shutdown. */
  unregister?(name: string): unknown;
  /** The spec of a registered operation, or undefined; names already taken are left alone. */
  spec?(name: string): unknown;
  /**
   * Serves these operations as a mesh worker on a stream this node dialled
   * to a head, and registers there (`connect(target, { worker })`).
   */
  serveWorker?(conn: ByteConn, options: WorkerLinkOptions): WorkerLinkSession;
}
