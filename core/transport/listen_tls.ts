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
import { alpnRoute, HTTP_ALPNS, offeredAlpns } from "./alpn.ts";
import { EndpointConfigError } from "./errors.ts";
import type { ConnInfo, Endpoint } from "./endpoint_types.ts";
import type { ListenContext } from "./listen_context.ts";
import type { PreauthGuard } from "./preauth.ts";
import type { TransportUrl } from "./url.ts";
import { startAcceptLoop } from "./accept_loop.ts";
import { hostPort } from "./hostport.ts";
import { STEALTH_ALPNS } from "./stealth_preamble.ts";
import { type FirstBytesConn, openFirstBytes, stealthFirstBytes } from "./stealth_gate.ts";
import { denoTlsUsable, listenDenoTls } from "./listen_tls_deno.ts";

/** Starts a `tls://` or `wss://` listener (`u.scheme` says which). */
export function listenTls(u: TransportUrl, ctx: ListenContext): Endpoint {
  const options = ctx.options;
  const httpOnly = u.scheme === "wss";
  if (typeof options.handlers?.ssh !== "function") {
    throw new EndpointConfigError("handlers.ssh is required");
  }
  const alpn = options.stealth ? [...STEALTH_ALPNS] : httpOnly ? [...HTTP_ALPNS] : offeredAlpns(
    {
      call: typeof options.handlers.call === "function",
      tcp: typeof options.handlers.tcp === "function",
    },
    { quic: false, requested: options.alpn },
  );
  // Outside stealth mode, Deno's own TLS where its sockets get TCP_NODELAY.
  if (denoTlsUsable(options.stealth, u.host)) return listenDenoTls(u, ctx, alpn);
  let secureContext = tls.createSecureContext({ cert: options.cert, key: options.key });
  const listener = Deno.listen({ hostname: u.host, port: u.port, transport: "tcp" });
  const sockets = new Set<tls.TLSSocket>();
  const accept = (raw: Deno.TcpConn) => {
    raw.setNoDelay(true);
    const peer = raw.remoteAddr as Deno.NetAddr;
    const info: ConnInfo = {
      remoteAddress: peer.hostname,
      remotePort: peer.port,
      transport: httpOnly ? "wss" : "tls",
    };
    // Unauthenticated connections per address are capped from accept on,
    // and the pre-auth clock runs through the handshake.
    let socket: tls.TLSSocket | undefined;
    const guard = ctx.admit(info, () => socket ? socket.destroy() : closeQuietly(raw));
    if (!guard) return closeQuietly(raw);
    const start = (prefix?: Uint8Array) => {
      try {
        socket = wrap(raw, peer, info, guard, prefix);
      } catch {
        guard.closed();
        closeQuietly(raw);
      }
    };
    // Stealth: what nginx answers before TLS (plain HTTP, refused hellos).
    const stealth = ctx.http.stealth;
    if (stealth) {
      stealth.screen(ctx.httpHeaderMs, raw, options.key, guard).then((p) => p && start(p), () => {
        guard.closed();
        closeQuietly(raw);
      });
    } else start();
  };
  const wrap = (
    raw: Deno.TcpConn,
    peer: Deno.NetAddr,
    info: ConnInfo,
    guard: PreauthGuard,
    prefix?: Uint8Array,
  ): tls.TLSSocket => {
    const plain = connToDuplex(raw, {
      remoteAddress: peer.hostname,
      remotePort: peer.port,
      prefix,
    });
    const s = new tls.TLSSocket(plain as unknown as Duplex, {
      isServer: true,
      secureContext,
      ALPNProtocols: alpn,
      // Half-close: a client's close_notify ends only its direction.
      allowHalfOpen: true,
    } as tls.TLSSocketOptions);
    // The TLS wrapper resets both to false, which would end our side
    // when the client half-closes.
    (s as unknown as { allowHalfOpen: boolean }).allowHalfOpen = true;
    (plain as unknown as { allowHalfOpen: boolean }).allowHalfOpen = true;
    sockets.add(s);
    const timer = setTimeout(() => {
      if (guard.claim()) ctx.reject(info, "tls-handshake-timeout");
      s.destroy();
    }, Math.min(ctx.handshakeMs, guard.remainingMs));
    s.on("error", () => s.destroy());
    s.on("close", () => {
      clearTimeout(timer);
      sockets.delete(s);
      plain.destroy();
      guard.closed();
    });
    s.once("secure", () => {
      clearTimeout(timer);
      if (ctx.closing) return s.destroy();
      const conn = ctx.track(duplexToConn(s, plain), guard.closed);
      const negotiated = s.alpnProtocol;
      if (typeof negotiated === "string" && negotiated !== "") info.alpn = negotiated;
      const first: FirstBytesConn = {
        conn,
        info,
        guard,
        abort: () => plain.destroy(),
        local: addr,
      };
      if (ctx.http.stealth) stealthFirstBytes(ctx, first).catch(() => closeQuietly(conn));
      else if (httpOnly) ctx.serveHttp(conn, new Uint8Array(0), info, guard);
      else if (info.alpn && alpnRoute(info.alpn) !== "http") {
        ctx.dispatch(info.alpn, conn, info, undefined, guard);
      } else openFirstBytes(ctx, first).catch(() => closeQuietly(conn));
    });
    return s;
  };
  const addr = listener.addr as Deno.NetAddr;
  const loop = startAcceptLoop(listener, (raw) => {
    if (ctx.closing) closeQuietly(raw);
    else accept(raw);
  }, {
    logger: options.logger,
    transport: httpOnly ? "wss" : "tls",
    addr: hostPort(addr.hostname, addr.port),
  });
  return {
    addr,
    transport: httpOnly ? "wss" : "tls",
    alpn,
    setCertificate(cert: string, key: string) {
      secureContext = tls.createSecureContext({ cert, key });
    },
    async close() {
      ctx.beginClose();
      closeQuietly(listener);
      await loop.stop();
      ctx.closeOpen();
      for (const s of [...sockets]) s.destroy();
      await ctx.http.close();
    },
  };
}
