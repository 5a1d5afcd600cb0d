/**
 * The `quic://` listener of an endpoint (`Deno.QuicEndpoint`). ALPN
 * `alknet/ssh` runs one SSH session on the connection's first bidirectional
 * stream (further streams are refused); `alknet/tcp` and `alknet/call` take
 * one connection per stream. HTTP is not served over QUIC. Internal to the
 * endpoint (not exported by `@alknet/core/transport`).
 *
 * @module
 */

import { closeQuietly } from "./stream.ts";
import { quicStreamConn } from "./conn.ts";
import { alpnRoute, offeredAlpns } from "./alpn.ts";
import type { ConnHandler, ConnInfo, Endpoint } from "./endpoint_types.ts";
import type { ListenContext } from "./listen_context.ts";
import { noCertificateSwap } from "./listen_plain.ts";
import type { TransportUrl } from "./url.ts";
import { EndpointConfigError } from "./errors.ts";
import { TIMED_OUT, withTimeout } from "../util/timeout.ts";
import { startAcceptLoop } from "./accept_loop.ts";
import { hostPort } from "./hostport.ts";

/** How long a server waits for the client to close a finished QUIC SSH connection. */
export const QUIC_LINGER_MS = 2000;

/** Starts a `quic://` listener. */
export function listenQuic(u: TransportUrl, ctx: ListenContext): Endpoint {
  const options = ctx.options;
  if (typeof options.handlers?.ssh !== "function") {
    throw new EndpointConfigError("handlers.ssh is required");
  }
  const alpn = offeredAlpns(
    {
      call: typeof options.handlers.call === "function",
      tcp: typeof options.handlers.tcp === "function",
    },
    { quic: true, requested: options.alpn },
  );
  const endpoint = new Deno.QuicEndpoint({ hostname: u.host, port: u.port });
  const listener = endpoint.listen({
    alpnProtocols: alpn,
    cert: options.cert!,
    key: options.key!,
    maxIdleTimeout: options.quicIdleTimeoutMs ?? 60_000,
  });
  const conns = new Set<Deno.QuicConn>();
  const handle = async (incoming: Deno.QuicIncoming) => {
    // The pre-auth clock starts with the first packet. The peer's address
    // is known only after the handshake (reading an incoming connection's
    // address makes Deno refuse it), so the cap on unauthenticated
    // connections per address applies from there; the handshake itself is
    // bounded, and costs no file descriptor.
    const acceptedAt = Date.now();
    const accepting = Promise.resolve(incoming.accept<false>());
    const accepted = await withTimeout(accepting, Math.min(ctx.handshakeMs, ctx.preauthMs))
      .catch(() => null);
    if (accepted === TIMED_OUT) {
      accepting.then((late) => closeQuietly(late), () => {});
      return;
    }
    if (!accepted) return;
    const conn = accepted;
    const info: ConnInfo = {
      remoteAddress: conn.remoteAddr.hostname,
      remotePort: conn.remoteAddr.port,
      transport: "quic",
    };
    // The connection's first stream that authenticates (SSH login, a valid
    // token) frees the slot.
    const guard = ctx.admit(info, () => closeQuietly(conn), acceptedAt);
    if (!guard) return closeQuietly(conn);
    conns.add(conn);
    conn.closed.then(() => conns.delete(conn), () => conns.delete(conn))
      .finally(guard.closed);
    if (ctx.closing || guard.done) return closeQuietly(conn);
    const negotiated = conn.protocol ?? "";
    info.alpn = negotiated;
    const streams = conn.incomingBidirectionalStreams.getReader();
    const route = alpnRoute(negotiated);
    if (route === "ssh") {
      const first = await withTimeout(streams.read(), Math.min(ctx.peekMs, guard.remainingMs))
        .catch(() => null);
      if (!first || first === TIMED_OUT || first.done) {
        if (guard.claim()) ctx.reject(info, "no-data");
        closeQuietly(conn);
        return;
      }
      // Closing a QUIC connection discards unacknowledged data, so when the
      // SSH stream closes the server waits (bounded) for the client to close.
      const linger = () => {
        const t = setTimeout(() => closeQuietly(conn), QUIC_LINGER_MS);
        conn.closed.finally(() => clearTimeout(t)).catch(() => {});
      };
      guard.handOver();
      options.handlers.ssh(ctx.track(quicStreamConn(first.value, linger)), info);
      // Further streams on an SSH connection are refused.
      try {
        while (true) {
          const r = await streams.read();
          if (r.done) break;
          r.value.readable.cancel().catch(() => {});
          r.value.writable.abort().catch(() => {});
        }
      } catch { /* connection closed */ }
      return;
    }
    const handler: ConnHandler | undefined = route === "tcp"
      ? options.handlers.tcp
      : route === "call"
      ? options.handlers.call
      : undefined;
    if (!handler) {
      ctx.reject(info, "unknown-alpn");
      closeQuietly(conn);
      return;
    }
    try {
      while (true) {
        const r = await streams.read();
        if (r.done) break;
        handler(ctx.track(quicStreamConn(r.value)), info);
      }
    } catch { /* connection closed */ }
  };
  const loop = startAcceptLoop({ accept: () => listener.incoming() }, (incoming) => {
    if (ctx.closing) return incoming.refuse();
    handle(incoming).catch(() => {});
  }, {
    logger: options.logger,
    transport: "quic",
    addr: hostPort(endpoint.addr.hostname, endpoint.addr.port),
  });
  return {
    addr: endpoint.addr,
    transport: "quic",
    alpn,
    setCertificate: noCertificateSwap("quic"),
    async close() {
      ctx.beginClose();
      ctx.closeOpen();
      for (const c of [...conns]) closeQuietly(c);
      try {
        listener.stop();
      } catch { /* stopped */ }
      closeQuietly(endpoint);
      await withTimeout(loop.stop(), 2000);
    },
  };
}
