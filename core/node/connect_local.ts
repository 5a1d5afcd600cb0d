/**
 * The local side of a tunnel: a SOCKS5 proxy and `-L` listeners whose
 * connections are carried to the node by a {@link RouteOpener} (an SSH
 * channel or a native data path stream). Reserved `alknet-*` destinations
 * are refused (SOCKS reply 02). The listeners keep accepting through failed
 * accepts (`EMFILE`: logged once per burst, retried after 5 ms doubling to
 * 1 s), and a SOCKS5 listener on a non-loopback address caps the
 * connections from one address that are still in their handshake (each
 * bounded by the handshake's 10 s deadline).
 *
 * @module
 */

import type { Duplex } from "node:stream";
import type { ForwardSpec } from "../ssh/forward_spec.ts";
import { socks5Handshake, Socks5Reply, socksReplyFor } from "../ssh/socks5.ts";
import { isReservedDestination } from "../ssh/reserved.ts";
import { type ByteConn, relayConnDuplex, relayConns, writeAll } from "../transport/stream.ts";
import { hostPort } from "../transport/hostport.ts";
import type { Logger } from "../util/log.ts";
import { type AcceptLoop, startAcceptLoop } from "../transport/accept_loop.ts";
import { ConnectionLimiter } from "../transport/limits.ts";
import { parseIp } from "../transport/addr.ts";

/** Where one local connection's bytes go: a native stream or an SSH channel. */
export type Route = { conn: ByteConn } | { channel: Duplex };

/** Opens a route to `host:port` through the node; errors map to SOCKS replies. */
export type RouteOpener = (host: string, port: number) => Promise<Route>;

/** What {@link startLocalListeners} serves. */
export interface LocalListenerOptions {
  /** SOCKS5 listener address, if any. */
  socks?: { host: string; port: number };
  /** RFC 1929 credentials the SOCKS5 listener requires. */
  socksCredentials?: { username: string; password: string };
  /** `-L` forwards. */
  localForwards: ForwardSpec[];
  /** Carries connections to the node. */
  open: RouteOpener;
  /** Event log (never destinations). */
  logger: Logger;
  /**
   * Connections from one address still in their SOCKS5 handshake (0 =
   * unlimited). Default: unlimited on a loopback address (every local
   * program is the same address there, so a cap would only turn away
   * legitimate programs when the machine is busy), 64 elsewhere.
   */
  maxHandshakingPerIp?: number;
}

/** The running listeners. */
export interface LocalListeners {
  /** The SOCKS5 listener's address, when there is one. */
  socksAddr?: Deno.NetAddr;
  /** The `-L` listeners' addresses, in spec order. */
  localAddrs: Deno.NetAddr[];
  /** Closes the listeners and every connection they accepted. */
  close(): void;
}

/** An accepted local connection. */
interface LocalConn extends ByteConn {
  remoteAddr: Deno.NetAddr;
}

function relay(local: ByteConn, route: Route, first?: Uint8Array): Promise<void> {
  if ("channel" in route) return relayConnDuplex(local, route.channel, first);
  return (async () => {
    if (first?.length) await writeAll(route.conn, first);
    await relayConns(local, route.conn);
  })();
}

const NO_SLOT = { release() {} };

function closeQuietly(c: { close(): void }): void {
  try {
    c.close();
  } catch { /* closed */ }
}

/**
 * Opens the SOCKS5 and `-L` listeners (throwing, with every listener closed
 * again, when one cannot bind) and serves them until `close()`.
 */
export function startLocalListeners(options: LocalListenerOptions): LocalListeners {
  const listeners: Deno.TcpListener[] = [];
  const loops: AcceptLoop[] = [];
  const active = new Set<LocalConn>();
  const serve = (
    listener: Deno.TcpListener,
    transport: string,
    handle: (conn: LocalConn) => Promise<void>,
  ) => {
    listeners.push(listener);
    const addr = listener.addr as Deno.NetAddr;
    loops.push(startAcceptLoop(listener, (raw) => {
      raw.setNoDelay(true);
      // Closed once: the relay closes it, and closing a closed Deno.Conn
      // throws (an error built, stack and all, per connection).
      let closed = false;
      const conn: LocalConn = {
        read: (p) => raw.read(p),
        write: (p) => raw.write(p),
        closeWrite: () => raw.closeWrite(),
        close() {
          if (closed) return;
          closed = true;
          closeQuietly(raw);
        },
        remoteAddr: raw.remoteAddr as Deno.NetAddr,
      };
      active.add(conn);
      handle(conn).catch(() => {}).finally(() => {
        active.delete(conn);
        conn.close();
      });
    }, { logger: options.logger, transport, addr: hostPort(addr.hostname, addr.port) }));
  };
  const loopback = (h: string) => {
    const ip = parseIp(h);
    return h === "localhost" || (ip !== null && (ip[0] === 127 && ip.length === 4 ||
      ip.length === 16 && ip.every((b, i) => b === (i === 15 ? 1 : 0))));
  };
  const maxHandshaking = options.maxHandshakingPerIp ??
    (options.socks && loopback(options.socks.host) ? 0 : 64);
  // Unlimited (0): no per-address count kept at all.
  const handshaking = maxHandshaking > 0
    ? new ConnectionLimiter({ maxUnauthenticatedPerIp: maxHandshaking })
    : undefined;
  const { logger, open } = options;
  let socksAddr: Deno.NetAddr | undefined;
  const localAddrs: Deno.NetAddr[] = [];
  try {
    if (options.socks) {
      const l = Deno.listen({ hostname: options.socks.host, port: options.socks.port });
      socksAddr = l.addr as Deno.NetAddr;
      serve(l, "socks5", async (conn) => {
        const peer = conn.remoteAddr;
        const slot = handshaking ? handshaking.admitUnauthenticated(peer.hostname) : NO_SLOT;
        if (!slot) {
          logger.event("socks rejected", {
            remote: hostPort(peer.hostname, peer.port),
            reason: "too-many-unauthenticated",
          });
          return;
        }
        let hs;
        try {
          hs = await socks5Handshake(conn, { credentials: options.socksCredentials });
        } catch (e) {
          logger.event("socks rejected", {
            remote: hostPort(peer.hostname, peer.port),
            reason: (e as Error).message,
          });
          return;
        } finally {
          slot.release();
        }
        if (isReservedDestination(hs.request.host)) {
          return await hs.reply(Socks5Reply.NOT_ALLOWED);
        }
        let route: Route;
        try {
          route = await open(hs.request.host, hs.request.port);
        } catch (e) {
          return await hs.reply(socksReplyFor(e));
        }
        await hs.reply(Socks5Reply.SUCCEEDED);
        await relay(conn, route, hs.leftover);
      });
    }
    for (const spec of options.localForwards) {
      const l = Deno.listen({ hostname: spec.bindHost ?? "127.0.0.1", port: spec.bindPort });
      localAddrs.push(l.addr as Deno.NetAddr);
      serve(l, "local-forward", async (conn) => {
        if (isReservedDestination(spec.host)) return;
        let route: Route;
        try {
          route = await open(spec.host, spec.hostPort);
        } catch {
          return;
        }
        await relay(conn, route);
      });
    }
  } catch (e) {
    for (const loop of loops) void loop.stop();
    for (const l of listeners) closeQuietly(l);
    throw e;
  }
  return {
    socksAddr,
    localAddrs,
    close() {
      for (const loop of loops) void loop.stop();
      for (const l of listeners) closeQuietly(l);
      for (const c of active) closeQuietly(c);
    },
  };
}
