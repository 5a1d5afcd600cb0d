/**
 * The call protocol as `alknet serve` offers it: one operation registry with
 * the built-in node operations, served on the SSH `alknet-control` channel
 * (identity from the SSH login), on `alknet/call` streams and on the
 * `/alknet/call` WebSocket (identity from a token or API key).
 *
 * @module
 */

import type { Duplex } from "node:stream";
import type { ByteConn, IdentityProvider, SessionInfo } from "@alknet/core";
import {
  callWebSocketHandler,
  duplexFromConn,
  fromNodeDuplex,
  OperationRegistry,
  registerNodeOperations,
  serveCallDuplex,
} from "@alknet/call";
import { VERSION } from "./main.ts";

/** What a node needs to serve calls on every carrier. */
export interface NodeCalls {
  /** The node's operations (built-ins registered). */
  registry: OperationRegistry;
  /** Handler for SSH channels to `alknet-control`. */
  controlChannel(channel: Duplex, session: SessionInfo): void;
  /** Handler for raw `alknet/call` byte streams (TLS ALPN, QUIC streams). */
  stream(conn: ByteConn): void;
  /** HTTP handler for the `/alknet/call` WebSocket. */
  http(request: Request): Promise<Response>;
}

/**
 * Builds the node's call service.
 *
 * @example
 * ```ts
 * import { nodeCalls } from "./node_calls.ts";
 * const calls = nodeCalls({
 *   fingerprint: "SHA256:...", listeners: ["127.0.0.1:2222"],
 *   identities: { resolveFingerprint: () => null, resolveToken: () => null },
 * });
 * console.log(await calls.registry.invoke("node/ping", { x: 1 })); // { x: 1 }
 * ```
 */
export function nodeCalls(options: {
  fingerprint: string;
  listeners: string[];
  identities: IdentityProvider;
}): NodeCalls {
  const registry = new OperationRegistry();
  registerNodeOperations(registry, {
    version: VERSION,
    fingerprint: options.fingerprint,
    listeners: options.listeners,
  });
  const authenticate = (token: string) => options.identities.resolveToken(token);
  return {
    registry,
    controlChannel(channel, session) {
      serveCallDuplex(fromNodeDuplex(channel), { registry, identity: session.identity });
    },
    stream(conn) {
      serveCallDuplex(duplexFromConn(conn), { registry, authenticate });
    },
    http: callWebSocketHandler({ registry, authenticate }),
  };
}
