/**
 * What every listener of an endpoint shares: the open-connection set for
 * shutdown, `conn rejected` logging, the HTTP front, and the hand-over of
 * an accepted connection to exactly one protocol handler (by ALPN, or by
 * peeking the first bytes on plain TCP and on TLS without ALPN: `SSH-` is
 * SSH, anything else HTTP, nothing is dropped). Internal to the endpoint
 * (not exported by `@alknet/core/transport`).
 *
 * @module
 */

import type { ByteConn } from "./stream.ts";
import { closeQuietly } from "./stream.ts";
import { prefixedConn, trackedConn } from "./conn.ts";
import { peekProtocol } from "./peek.ts";
import { HttpFront } from "./http_front.ts";
import { ALPN_SSH, alpnRoute } from "./alpn.ts";
import type { ConnInfo, EndpointOptions } from "./endpoint_types.ts";
import { hostPort } from "./hostport.ts";

const EMPTY = new Uint8Array(0);

/** One listener's shared state and hand-over logic (internal). */
export class ListenContext {
  /** The endpoint options. */
  readonly options: EndpointOptions;
  /** How long to wait for a client's first bytes. */
  readonly peekMs: number;
  /** TLS/QUIC handshake deadline. */
  readonly handshakeMs: number;
  /** The HTTP side. */
  readonly http: HttpFront;
  #open = new Set<ByteConn>();
  #closing = false;

  /** Creates the context for one listener. */
  constructor(options: EndpointOptions) {
    this.options = options;
    this.peekMs = options.peekTimeoutMs ?? 5000;
    this.handshakeMs = options.handshakeTimeoutMs ?? 10_000;
    this.http = new HttpFront(options, this.track);
  }

  /** Whether the listener is shutting down. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Registers a connection so shutdown closes it (closes it at once when shutting down). */
  track = (c: ByteConn): ByteConn => {
    if (this.#closing) {
      closeQuietly(c);
      return c;
    }
    const t = trackedConn(c, () => this.#open.delete(t));
    this.#open.add(t);
    return t;
  };

  /** Logs `conn rejected` (never a tunnel destination). */
  reject(info: ConnInfo, reason: string): void {
    this.options.logger?.event("conn rejected", {
      remote: hostPort(info.remoteAddress, info.remotePort),
      transport: info.transport,
      peer: info.peerId,
      reason,
    });
  }

  /** After ALPN (or peek) has chosen: hands the connection to its handler. */
  dispatch(alpn: string, conn: ByteConn, info: ConnInfo, prefix?: Uint8Array): void {
    const h = this.options.handlers;
    const c = prefix ? prefixedConn(conn, prefix) : conn;
    const route = alpnRoute(alpn);
    if (route === "ssh") h.ssh(c, info);
    else if (route === "call" && h.call) h.call(c, info);
    else if (route === "tcp" && h.tcp) h.tcp(c, info);
    else if (route === "http") void this.http.relay(conn, prefix ?? EMPTY, info);
    else {
      this.reject(info, "unknown-alpn");
      closeQuietly(conn);
    }
  }

  /** Plain TCP, or TLS without ALPN: peeks, then dispatches. */
  async peekThenDispatch(conn: ByteConn, info: ConnInfo): Promise<void> {
    const peeked = await peekProtocol(conn, this.peekMs);
    if (peeked.timedOut || peeked.protocol === "silent") {
      this.reject(info, "no-data");
      closeQuietly(conn);
      return;
    }
    if (peeked.protocol === "ssh") this.dispatch(ALPN_SSH, conn, info, peeked.prefix);
    else void this.http.relay(conn, peeked.prefix, info);
  }

  /** Marks the listener as closing: new connections are closed on arrival. */
  beginClose(): void {
    this.#closing = true;
  }

  /** Closes every tracked connection. */
  closeOpen(): void {
    for (const c of [...this.#open]) closeQuietly(c);
  }
}
