/**
 * The TLS listeners of an endpoint: `tls://` dispatches by the negotiated
 * ALPN (peeking when the client offered none), `wss://` is an HTTP-only TLS
 * listener (ALPN `h2`/`http/1.1`) whose requests go to the HTTP front.
 *
 * TLS runs in `node:tls` over our own TCP sockets: `Deno.listenTls`
 * connections cannot take TCP_NODELAY, `Deno.serve`'s own TLS sockets keep
 * Nagle on (44 ms per two-write reply), and `node:tls` server sockets lose the
 * end of stream when they were backpressured. Internal to the endpoint (not
 * exported by `@alknet/core/transport`).
 *
 * @module
 */

import tls from "node:tls";
import type { Duplex } from "node:stream";
import { closeQuietly, connToDuplex } from "./stream.ts";
import { duplexToConn } from "./conn.ts";
import { HTTP_ALPNS, offeredAlpns } from "./alpn.ts";
import { EndpointConfigError } from "./errors.ts";
import type { ConnInfo, Endpoint } from "./endpoint_types.ts";
import type { ListenContext } from "./listen_context.ts";
import type { TransportUrl } from "./url.ts";

const EMPTY = new Uint8Array(0);

/** Starts a `tls://` or `wss://` listener (`u.scheme` says which). */
export function listenTls(u: TransportUrl, ctx: ListenContext): Endpoint {
  const options = ctx.options;
  const httpOnly = u.scheme === "wss";
  if (typeof options.handlers?.ssh !== "function") {
    throw new EndpointConfigError("handlers.ssh is required");
  }
  const alpn = httpOnly ? [...HTTP_ALPNS] : offeredAlpns(
    {
      call: typeof options.handlers.call === "function",
      tcp: typeof options.handlers.tcp === "function",
    },
    { quic: false, requested: options.alpn },
  );
  let secureContext = tls.createSecureContext({ cert: options.cert, key: options.key });
  const listener = Deno.listen({ hostname: u.host, port: u.port, transport: "tcp" });
  const sockets = new Set<tls.TLSSocket>();
  const accept = (raw: Deno.TcpConn) => {
    raw.setNoDelay(true);
    const peer = raw.remoteAddr as Deno.NetAddr;
    const plain = connToDuplex(raw, { remoteAddress: peer.hostname, remotePort: peer.port });
    const socket = new tls.TLSSocket(plain as unknown as Duplex, {
      isServer: true,
      secureContext,
      ALPNProtocols: alpn,
      // Half-close: a client's close_notify ends only its direction.
      allowHalfOpen: true,
    } as tls.TLSSocketOptions);
    // The TLS wrapper resets both to false, which would end our side
    // when the client half-closes.
    (socket as unknown as { allowHalfOpen: boolean }).allowHalfOpen = true;
    (plain as unknown as { allowHalfOpen: boolean }).allowHalfOpen = true;
    sockets.add(socket);
    const timer = setTimeout(() => socket.destroy(), ctx.handshakeMs);
    socket.on("error", () => socket.destroy());
    socket.on("close", () => {
      clearTimeout(timer);
      sockets.delete(socket);
      plain.destroy();
    });
    socket.once("secure", () => {
      clearTimeout(timer);
      if (ctx.closing) return socket.destroy();
      const info: ConnInfo = {
        remoteAddress: peer.hostname,
        remotePort: peer.port,
        transport: httpOnly ? "wss" : "tls",
      };
      const conn = ctx.track(duplexToConn(socket, plain));
      const negotiated = socket.alpnProtocol;
      if (typeof negotiated === "string" && negotiated !== "") info.alpn = negotiated;
      if (httpOnly) void ctx.http.relay(conn, EMPTY, info);
      else if (info.alpn) ctx.dispatch(info.alpn, conn, info);
      else ctx.peekThenDispatch(conn, info).catch(() => closeQuietly(conn));
    });
  };
  const loop = (async () => {
    try {
      for await (const raw of listener) {
        if (ctx.closing) closeQuietly(raw);
        else accept(raw);
      }
    } catch { /* listener closed */ }
  })();
  return {
    addr: listener.addr as Deno.NetAddr,
    transport: httpOnly ? "wss" : "tls",
    alpn,
    setCertificate(cert: string, key: string) {
      secureContext = tls.createSecureContext({ cert, key });
    },
    async close() {
      ctx.beginClose();
      closeQuietly(listener);
      await loop;
      ctx.closeOpen();
      for (const s of [...sockets]) s.destroy();
      await ctx.http.close();
    },
  };
}
