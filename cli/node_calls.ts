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
 * A call-protocol duplex over a byte stream. The connection reads through
 * `read`/`write`; the streams exist for the interface and pull nothing
 * until someone reads them (highWaterMark 0), so they never race the
 * direct reads.
 */
function byteDuplex(conn: ByteConn) {
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    try {
      conn.close();
    } catch { /* closed */ }
  };
  return {
    readable: new ReadableStream<Uint8Array>({
      async pull(c) {
        const buf = new Uint8Array(64 * 1024);
        const n = await conn.read(buf).catch(() => null);
        if (n === null) c.close();
        else c.enqueue(buf.subarray(0, n));
      },
      cancel: close,
    }, { highWaterMark: 0 }),
    writable: new WritableStream<Uint8Array>({
      async write(chunk) {
        for (let off = 0; off < chunk.length;) off += await conn.write(chunk.subarray(off));
      },
      close,
      abort: close,
    }),
    read: (b: Uint8Array) => conn.read(b),
    write: (b: Uint8Array) => conn.write(b),
    close,
  };
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
      serveCallDuplex(byteDuplex(conn), { registry, authenticate });
    },
    http: callWebSocketHandler({ registry, authenticate }),
  };
}
