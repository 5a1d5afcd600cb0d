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
    const accepted = await withTimeout(Promise.resolve(incoming.accept<false>()), ctx.handshakeMs)
      .catch(() => null);
    if (!accepted || accepted === TIMED_OUT) return;
    const qc = accepted;
    conns.add(qc);
    qc.closed.then(() => conns.delete(qc), () => conns.delete(qc));
    if (ctx.closing) return closeQuietly(qc);
    const negotiated = qc.protocol ?? "";
    const info: ConnInfo = {
      remoteAddress: qc.remoteAddr.hostname,
      remotePort: qc.remoteAddr.port,
      transport: "quic",
      alpn: negotiated,
    };
    const streams = qc.incomingBidirectionalStreams.getReader();
    const route = alpnRoute(negotiated);
    if (route === "ssh") {
      const first = await withTimeout(streams.read(), ctx.peekMs).catch(() => null);
      if (!first || first === TIMED_OUT || first.done) {
        ctx.reject(info, "no-data");
        closeQuietly(qc);
        return;
      }
      // Closing a QUIC connection discards unacknowledged data, so when the
      // SSH stream closes the server waits (bounded) for the client to close.
      const linger = () => {
        const t = setTimeout(() => closeQuietly(qc), QUIC_LINGER_MS);
        qc.closed.finally(() => clearTimeout(t)).catch(() => {});
      };
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
      closeQuietly(qc);
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
  const loop = (async () => {
    try {
      for await (const incoming of listener) {
        if (ctx.closing) {
          incoming.refuse();
          continue;
        }
        handle(incoming).catch(() => {});
      }
    } catch { /* stopped */ }
  })();
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
      await withTimeout(loop, 2000);
    },
  };
}
