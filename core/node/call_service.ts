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

/** Who is on the other end of a carrier, as far as the node knows at accept time. */
export interface CallPeer {
  /** The identity, when the carrier already authenticated it (SSH `alknet-control`). */
  identity?: Identity;
  /**
   * Resolves a bearer token or API key sent in-band (raw `alknet/call`
   * streams, where the first request carries `auth_token`) or in the
   * WebSocket `Authorization` header.
   */
  authenticate?: (token: string) => Identity | null | Promise<Identity | null>;
  /** The transport the carrier arrived on (`ssh`, `tls`, `quic`, `ws`, `wss`, `iroh`, `tcp`). */
  transport: string;
  /** `ip:port` of the remote end, when known. */
  remote?: string;
}

/** A running call connection, as far as the node needs to manage it. */
export interface CallSession {
  /** Resolves when the connection has closed. */
  readonly closed: Promise<void>;
  /** Closes the connection; pending calls fail with "connection closed". */
  close(): void | Promise<void>;
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
}
