/**
 * The `tls://` and `wss://` listeners on Deno's own TLS (`Deno.listenTls`,
 * rustls in Rust): the same dispatch as the `node:tls` listeners (ALPN, the
 * preamble and first-bytes peek without ALPN, HTTP to the front) for a fifth
 * of the CPU per byte, and with TCP_NODELAY inherited from the listening
 * socket (see `socket_ffi.ts`). Used outside stealth mode, where no
 * byte has to be read before the TLS handshake; stealth mode screens the
 * ClientHello first and stays on `node:tls`. Internal to the endpoint (not
 * exported by `@alknet/core/transport`).
 *
 * A new certificate (`setCertificate`) opens a second listening socket on
 * the same address (`SO_REUSEPORT`), steers new connections to it, and
 * closes the first two seconds later: connections already open keep their
 * TLS session, new ones get the new certificate, none is refused.
 *
 * @module
 */

import tls from "node:tls";
import { closeQuietly } from "./stream.ts";
import { tlsByteConn } from "./tls_conn.ts";
import { alpnRoute } from "./alpn.ts";
import type { ConnInfo, Endpoint } from "./endpoint_types.ts";
import type { ListenContext } from "./listen_context.ts";
import type { PreauthGuard } from "./preauth.ts";
import type { TransportUrl } from "./url.ts";
import { type AcceptLoop, startAcceptLoop } from "./accept_loop.ts";
import { hostPort } from "./hostport.ts";
import { parseIp } from "./addr.ts";
import { type FirstBytesConn, openFirstBytes } from "./stealth_gate.ts";
import {
  flushShutdowns,
  listenersOn,
  setListenerNoDelay,
  shutdownSocket,
  socketFfiSupported,
  steerToNewestListener,
} from "./socket_ffi.ts";

/** How long a listener replaced by a new certificate keeps accepting what was on its way to it. */
const RETIRE_MS = 2000;

/**
 * Whether a listener on Deno's TLS can be used for these options: not in
 * stealth mode, on an IP address (the port check reads `/proc`), and only
 * where its connections get TCP_NODELAY.
 */
export function denoTlsUsable(stealth: boolean | undefined, host: string): boolean {
  return !stealth && parseIp(host) !== null && socketFfiSupported();
}

/** A listener replaced by a new certificate, draining until its timer. */
interface Retiring {
  listener: Deno.TlsListener;
  loop: AcceptLoop;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Starts a `tls://` or `wss://` listener on `Deno.listenTls` offering `alpn`.
 * Call only when {@link denoTlsUsable} is true.
 */
export function listenDenoTls(u: TransportUrl, ctx: ListenContext, alpn: string[]): Endpoint {
  const options = ctx.options;
  const httpOnly = u.scheme === "wss";
  const transport = httpOnly ? "wss" : "tls";
  /** Every connection this listener accepted and has not closed. */
  const open = new Set<Deno.TlsConn>();
  /** Those whose handshake has not finished (closing them needs a shutdown). */
  const handshaking = new Set<Deno.TlsConn>();
  // SO_REUSEPORT lets a new certificate's listener take over the port
  // before the old one closes (no connection refused in between); finding
  // a second listener on the port right after binding means someone else
  // is there, which a plain bind would have refused.
  const bind = (hostname: string, port: number, cert: string, key: string, swap = false) => {
    for (let attempt = 0;; attempt++) {
      const l = Deno.listenTls({
        hostname,
        port,
        cert,
        key,
        alpnProtocols: alpn,
        transport: "tcp",
        reusePort: true,
      });
      const bound = (l.addr as Deno.NetAddr).port;
      if (listenersOn(hostname, bound) <= (swap ? 2 : 1)) {
        setListenerNoDelay(bound);
        return l;
      }
      closeQuietly(l);
      // An ephemeral port that turned out to be shared: pick another.
      if (port !== 0 || attempt >= 10) {
        throw new Deno.errors.AddrInUse(`${hostPort(hostname, port)} is already in use`);
      }
    }
  };
  let listener = bind(u.host, u.port, options.cert!, options.key!);
  const addr = listener.addr as Deno.NetAddr;

  const drop = (raw: Deno.TlsConn) => {
    open.delete(raw);
    if (handshaking.delete(raw)) {
      shutdownSocket(raw.localAddr as Deno.NetAddr, raw.remoteAddr as Deno.NetAddr);
    }
    closeQuietly(raw);
  };

  const onSecure = (raw: Deno.TlsConn, info: ConnInfo, guard: PreauthGuard) => {
    const conn = ctx.track(tlsByteConn(raw), () => {
      open.delete(raw);
      guard.closed();
    });
    if (httpOnly) return ctx.serveHttp(conn, new Uint8Array(0), info, guard);
    if (info.alpn && alpnRoute(info.alpn) !== "http") {
      return ctx.dispatch(info.alpn, conn, info, undefined, guard);
    }
    const first: FirstBytesConn = { conn, info, guard, abort: () => drop(raw), local: addr };
    openFirstBytes(ctx, first).catch(() => closeQuietly(conn));
  };

  const accept = (raw: Deno.TlsConn) => {
    const peer = raw.remoteAddr as Deno.NetAddr;
    const info: ConnInfo = { remoteAddress: peer.hostname, remotePort: peer.port, transport };
    open.add(raw);
    handshaking.add(raw);
    // Unauthenticated connections per address are capped from accept on,
    // and the pre-auth clock runs through the handshake.
    const guard = ctx.admit(info, () => drop(raw));
    if (!guard) return drop(raw);
    const fail = () => {
      guard.closed();
      drop(raw);
    };
    const timer = setTimeout(() => {
      if (guard.claim()) ctx.reject(info, "tls-handshake-timeout");
      fail();
    }, Math.min(ctx.handshakeMs, guard.remainingMs));
    raw.handshake().then((hs) => {
      clearTimeout(timer);
      if (ctx.closing || guard.done || !open.has(raw)) return fail();
      handshaking.delete(raw);
      if (typeof hs.alpnProtocol === "string" && hs.alpnProtocol !== "") {
        info.alpn = hs.alpnProtocol;
      }
      onSecure(raw, info, guard);
    }, () => {
      clearTimeout(timer);
      fail();
    });
  };

  const run = (l: Deno.TlsListener): AcceptLoop =>
    startAcceptLoop(l, (raw) => {
      if (ctx.closing) {
        handshaking.add(raw);
        drop(raw);
      } else accept(raw);
    }, { logger: options.logger, transport, addr: hostPort(addr.hostname, addr.port) });
  let loop = run(listener);
  /** Listeners replaced by a new certificate, still draining. */
  const retiring = new Set<Retiring>();
  const retire = async (r: Retiring) => {
    if (!retiring.delete(r)) return;
    clearTimeout(r.timer);
    closeQuietly(r.listener);
    await r.loop.stop();
  };
  let swapping = Promise.resolve();
  let pendingSwaps = 0;
  /** Binds a listener with the new certificate, steers new connections to it, retires the old. */
  const swap = (cert: string, key: string) => {
    const next = bind(addr.hostname, addr.port, cert, key, true);
    steerToNewestListener(addr.port);
    // The old listener keeps accepting what was already on its way to it.
    const old: Retiring = { listener, loop, timer: undefined };
    listener = next;
    loop = run(next);
    retiring.add(old);
    old.timer = setTimeout(() => retire(old), RETIRE_MS);
  };

  return {
    addr,
    transport,
    alpn,
    setCertificate(cert: string, key: string) {
      // A bad certificate or key throws here, as on the node:tls listener.
      tls.createSecureContext({ cert, key });
      if (ctx.closing) return;
      if (retiring.size === 0 && pendingSwaps === 0) return swap(cert, key);
      // One swap at a time: the group must hold the current listener only.
      pendingSwaps++;
      swapping = swapping.then(async () => {
        for (const r of [...retiring]) await retire(r);
        if (!ctx.closing) swap(cert, key);
      }).catch((e) => {
        options.logger?.event("tls certificate", {
          addr: hostPort(addr.hostname, addr.port),
          result: "failed",
          error: e instanceof Error ? e.name : "unknown",
        });
      }).finally(() => pendingSwaps--);
    },
    async close() {
      ctx.beginClose();
      await swapping;
      closeQuietly(listener);
      await Promise.all([loop.stop(), ...[...retiring].map(retire)]);
      ctx.closeOpen();
      for (const c of [...open]) drop(c);
      flushShutdowns();
      await ctx.http.close();
    },
  };
}
