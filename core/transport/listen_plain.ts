/**
 * The plain listeners of an endpoint: `tcp://` (each connection peeked: SSH
 * or HTTP) and `ws://` (`Deno.serve` itself; its TCP sockets have NODELAY).
 * Internal to the endpoint (not exported by `@alknet/core/transport`).
 *
 * @module
 */

import { closeQuietly } from "./stream.ts";
import type { ConnInfo, Endpoint, TransportKind } from "./endpoint_types.ts";
import type { ListenContext } from "./listen_context.ts";
import type { TransportUrl } from "./url.ts";
import { EndpointConfigError } from "./errors.ts";
import { withTimeout } from "../util/timeout.ts";

/** The error `setCertificate` throws where a certificate cannot be swapped. */
export function noCertificateSwap(transport: string): () => never {
  return () => {
    throw new EndpointConfigError(
      `${transport}:// cannot change its certificate while running; restart the listener`,
    );
  };
}

/** Starts a `tcp://` listener. */
export function listenTcp(u: TransportUrl, ctx: ListenContext): Endpoint {
  const listener = Deno.listen({ hostname: u.host, port: u.port, transport: "tcp" });
  const loop = (async () => {
    try {
      for await (const raw of listener) {
        raw.setNoDelay(true);
        const peer = raw.remoteAddr as Deno.NetAddr;
        const info: ConnInfo = {
          remoteAddress: peer.hostname,
          remotePort: peer.port,
          transport: "tcp",
        };
        ctx.peekThenDispatch(ctx.track(raw), info).catch(() => closeQuietly(raw));
      }
    } catch { /* listener closed */ }
  })();
  return {
    addr: listener.addr as Deno.NetAddr,
    transport: "tcp",
    alpn: [],
    setCertificate: noCertificateSwap("tcp"),
    async close() {
      ctx.beginClose();
      closeQuietly(listener);
      await loop;
      ctx.closeOpen();
      await ctx.http.close();
    },
  };
}

/** Starts a `ws://` listener. */
export function listenWs(u: TransportUrl, ctx: ListenContext): Endpoint {
  const ac = new AbortController();
  const transport: TransportKind = "ws";
  const server = Deno.serve({
    hostname: u.host,
    port: u.port,
    signal: ac.signal,
    onListen: () => {},
    onError: () => new Response(null, { status: 500 }),
  }, (req, sinfo) => {
    const addr = sinfo.remoteAddr as Deno.NetAddr;
    return ctx.http.route(req, { remoteAddress: addr.hostname, remotePort: addr.port, transport });
  });
  return {
    addr: server.addr as Deno.NetAddr,
    transport,
    alpn: [],
    setCertificate: noCertificateSwap(transport),
    async close() {
      ctx.beginClose();
      ctx.closeOpen();
      ac.abort();
      await withTimeout(server.finished, 2000);
      await ctx.http.close();
    },
  };
}
