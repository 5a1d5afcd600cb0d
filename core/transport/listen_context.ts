/**
 * What every listener of an endpoint shares: the open-connection set for
 * shutdown, `conn rejected` logging, the HTTP front, admission at accept
 * (the per-address cap on unauthenticated connections and the pre-auth
 * clock, see `preauth.ts`), the deadlines read from the limiter, and the
 * hand-over of an accepted connection to exactly one protocol handler (by
 * ALPN, or by peeking the first bytes on plain TCP and on TLS without
 * ALPN: `SSH-` is SSH, anything else HTTP, nothing is dropped). Internal
 * to the endpoint (not exported by `@alknet/core/transport`).
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
import { ConnectionLimiter } from "./limits.ts";
import { httpDeadlines, PreauthGuard } from "./preauth.ts";

const EMPTY = new Uint8Array(0);

/** One listener's shared state and hand-over logic (internal). */
export class ListenContext {
  /** The endpoint options. */
  readonly options: EndpointOptions;
  /** How long to wait for a client's first bytes. */
  readonly peekMs: number;
  /** The HTTP side. */
  readonly http: HttpFront;
  /** Caps and deadlines (shared with the node's other listeners when given). */
  readonly limiter: ConnectionLimiter;
  #open = new Set<ByteConn>();
  #closing = false;

  /** Creates the context for one listener. */
  constructor(options: EndpointOptions) {
    this.options = options;
    this.peekMs = options.peekTimeoutMs ?? 5000;
    this.limiter = options.limiter ?? new ConnectionLimiter();
    this.http = new HttpFront(options, this.track);
  }

  /** TLS/QUIC handshake deadline (ms), read at each accept. */
  get handshakeMs(): number {
    return this.options.handshakeTimeoutMs ??
      this.limiter.listenerLimits.tlsHandshakeTimeoutS * 1000;
  }

  /** Pre-auth deadline from accept (ms). */
  get preauthMs(): number {
    return this.options.preauthTimeoutMs ?? this.limiter.limits.preauthTimeoutS * 1000;
  }

  /** Deadline for the first HTTP request header (ms). */
  get httpHeaderMs(): number {
    return this.options.httpHeaderTimeoutMs ??
      this.limiter.listenerLimits.httpHeaderTimeoutS * 1000;
  }

  /** Whether the listener is shutting down. */
  get closing(): boolean {
    return this.#closing;
  }

  /**
   * Registers a connection so shutdown closes it (closes it at once when
   * shutting down); `onClose` runs when it is closed.
   */
  track = (c: ByteConn, onClose?: () => void): ByteConn => {
    if (this.#closing) {
      closeQuietly(c);
      onClose?.();
      return c;
    }
    const t = trackedConn(c, () => {
      this.#open.delete(t);
      onClose?.();
    });
    this.#open.add(t);
    return t;
  };

  /**
   * Admits a connection just accepted: takes a place among its address's
   * unauthenticated connections and starts the pre-auth clock, whose expiry
   * logs `conn rejected reason=preauth-timeout` and runs `close`. Sets
   * `info.acceptedAt` (`acceptedAt`, default now) and `info.authenticated`. Returns undefined (and logs
   * `reason=too-many-unauthenticated`) when the address is at its cap; the
   * caller then closes the connection. The caller must run the guard's
   * `closed()` when the connection closes.
   */
  admit(info: ConnInfo, close: () => void, acceptedAt?: number): PreauthGuard | undefined {
    if (this.#closing) return undefined;
    const slot = this.limiter.admitUnauthenticated(info.remoteAddress);
    if (!slot) {
      this.reject(info, "too-many-unauthenticated");
      return undefined;
    }
    const guard = new PreauthGuard(slot, this.preauthMs, () => {
      this.reject(info, "preauth-timeout");
      close();
    }, acceptedAt);
    info.acceptedAt = guard.acceptedAt;
    info.authenticated = guard.authenticated;
    return guard;
  }

  /** Logs `conn rejected` (never a tunnel destination). */
  reject(info: ConnInfo, reason: string): void {
    this.options.logger?.event("conn rejected", {
      remote: hostPort(info.remoteAddress, info.remotePort),
      transport: info.transport,
      peer: info.peerId,
      reason,
    });
  }

  /**
   * After ALPN (or peek) has chosen: hands the connection to its handler.
   * SSH keeps its own pre-auth clock (started at the same accept), HTTP is
   * bounded by the header and idle deadlines; `call` and `tcp` stay on the
   * listener's clock until their handler calls `info.authenticated()`.
   */
  dispatch(
    alpn: string,
    conn: ByteConn,
    info: ConnInfo,
    prefix?: Uint8Array,
    guard?: PreauthGuard,
  ): void {
    const h = this.options.handlers;
    const c = prefix ? prefixedConn(conn, prefix) : conn;
    const route = alpnRoute(alpn);
    if (route === "ssh") {
      guard?.handOver();
      h.ssh(c, info);
    } else if (route === "call" && h.call) h.call(c, info);
    else if (route === "tcp" && h.tcp) h.tcp(c, info);
    else if (route === "http") this.serveHttp(conn, prefix ?? EMPTY, info, guard);
    else {
      this.reject(info, "unknown-alpn");
      closeQuietly(conn);
    }
  }

  /**
   * Relays HTTP to the HTTP front under nginx's deadlines: the first
   * request header within `httpHeaderMs`, then no more than 75 s of silence
   * while unauthenticated (an authenticated WebSocket lifts both).
   */
  serveHttp(conn: ByteConn, prefix: Uint8Array, info: ConnInfo, guard?: PreauthGuard): void {
    guard?.handOver();
    const guarded = httpDeadlines(conn, {
      seen: prefix,
      headerMs: this.httpHeaderMs,
      idleMs: this.limiter.listenerLimits.httpIdleTimeoutS * 1000,
      onTimeout: (why) => {
        if (why === "header") this.reject(info, "http-header-timeout");
      },
    });
    const authenticated = info.authenticated;
    info.authenticated = () => {
      guarded.disarm();
      authenticated?.();
    };
    this.http.relay(guarded.conn, prefix, info).catch(() => closeQuietly(conn));
  }

  /** Plain TCP, or TLS without ALPN: peeks, then dispatches. */
  async peekThenDispatch(conn: ByteConn, info: ConnInfo, guard?: PreauthGuard): Promise<void> {
    const wait = guard ? Math.min(this.peekMs, guard.remainingMs) : this.peekMs;
    const peeked = await peekProtocol(conn, wait);
    if (peeked.timedOut || peeked.protocol === "silent") {
      if (!guard || guard.claim()) this.reject(info, "no-data");
      closeQuietly(conn);
      return;
    }
    if (peeked.protocol === "ssh") this.dispatch(ALPN_SSH, conn, info, peeked.prefix, guard);
    else this.serveHttp(conn, peeked.prefix, info, guard);
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
