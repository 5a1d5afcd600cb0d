/**
 * The plain listeners of an endpoint: `tcp://` (each connection peeked: SSH
 * or HTTP) and `ws://` (HTTP only, relayed to the HTTP front's `Deno.serve`
 * like decrypted TLS, so a failed accept cannot stop it). Every socket has
 * NODELAY. Internal to the endpoint (not exported by
 * `@alknet/core/transport`).
 *
 * @module
 */

import { closeQuietly } from "./stream.ts";
import type { ConnInfo, Endpoint } from "./endpoint_types.ts";
import type { ListenContext } from "./listen_context.ts";
import type { TransportUrl } from "./url.ts";
import { EndpointConfigError } from "./errors.ts";
import { startAcceptLoop } from "./accept_loop.ts";
import { hostPort } from "./hostport.ts";

/** The error `setCertificate` throws where a certificate cannot be swapped. */
export function noCertificateSwap(transport: string): () => never {
  return () => {
    throw new EndpointConfigError(
      `${transport}:// cannot change its certificate while running; restart the listener`,
    );
  };
}

/**
 * Accepts plain TCP connections for `tcp://` (peeked: SSH or HTTP) or
 * `ws://` (HTTP only, relayed to the HTTP front), with the per-address cap
 * on unauthenticated connections and the pre-auth clock from accept.
 */
function listenPlain(u: TransportUrl, ctx: ListenContext, transport: "tcp" | "ws"): Endpoint {
  const listener = Deno.listen({ hostname: u.host, port: u.port, transport: "tcp" });
  const addr = listener.addr as Deno.NetAddr;
  const accept = (raw: Deno.TcpConn) => {
    if (ctx.closing) return closeQuietly(raw);
    raw.setNoDelay(true);
    const peer = raw.remoteAddr as Deno.NetAddr;
    const info: ConnInfo = { remoteAddress: peer.hostname, remotePort: peer.port, transport };
    const guard = ctx.admit(info, () => closeQuietly(raw));
    if (!guard) return closeQuietly(raw);
    const conn = ctx.track(raw, guard.closed);
    if (transport === "ws") ctx.serveHttp(conn, new Uint8Array(0), info, guard);
    else ctx.peekThenDispatch(conn, info, guard).catch(() => closeQuietly(conn));
  };
  const loop = startAcceptLoop(listener, accept, {
    logger: ctx.options.logger,
    transport,
    addr: hostPort(addr.hostname, addr.port),
  });
  return {
    addr,
    transport,
    alpn: [],
    setCertificate: noCertificateSwap(transport),
    async close() {
      ctx.beginClose();
      closeQuietly(listener);
      await loop.stop();
      ctx.closeOpen();
      await ctx.http.close();
    },
  };
}

/** Starts a `tcp://` listener. */
export function listenTcp(u: TransportUrl, ctx: ListenContext): Endpoint {
  return listenPlain(u, ctx, "tcp");
}

/**
 * Starts a `ws://` listener: our own accept loop (so the caps, deadlines
 * and accept back-off apply) relaying to the HTTP front, whose `Deno.serve`
 * answers and upgrades `/alknet/ssh`.
 */
export function listenWs(u: TransportUrl, ctx: ListenContext): Endpoint {
  return listenPlain(u, ctx, "ws");
}
