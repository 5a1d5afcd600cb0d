/**
 * The `iroh://` listener. ALPN `alknet/ssh` runs one SSH session on the
 * connection's first bidirectional stream; `alknet/tcp` (native data path)
 * and `alknet/call` take one stream each. iroh authenticates the node id
 * (the QUIC handshake is bound to it); SSH still verifies the host key as on
 * every transport. The binding is loaded here, on first use.
 *
 * @module
 */

import type { ByteConn } from "./stream.ts";
import { TransportUrlError } from "./errors.ts";
import { hostPort } from "./hostport.ts";
import { ALPN_CALL, ALPN_SSH, ALPN_TCP, alpnRoute } from "./alpn.ts";
import type { ConnHandler, ConnInfo, EndpointHandlers } from "./endpoint_types.ts";
import { type IrohUrl, parseIrohUrl } from "./iroh_url.ts";
import {
  bindAddrs,
  bindEndpoint,
  closeIroh,
  type IrohConnection,
  type IrohIncoming,
  irohStreamConn,
  textOf,
} from "./iroh_binding.ts";
import type { Logger } from "../util/log.ts";
import { TIMED_OUT, withTimeout } from "../util/timeout.ts";
import { startAcceptLoop } from "./accept_loop.ts";

/**
 * Options of {@link listenIroh}.
 *
 * @example
 * ```ts
 * import type { IrohListenOptions } from "@alknet/core/transport";
 * const o: IrohListenOptions = { url: "iroh://127.0.0.1:0?relay=off", handlers: { ssh: (c) => c.close() } };
 * console.log(o.url);
 * ```
 */
export interface IrohListenOptions {
  /** `iroh://[HOST:PORT][?relay=off]` (default `iroh://`: every interface, relays on). */
  url?: string | IrohUrl;
  /** The endpoint's 32-byte secret key (its node id is the public key); random when absent. */
  secretKey?: Uint8Array;
  /** The protocol handlers (`ssh`, and `tcp`/`call` when given). */
  handlers: EndpointHandlers;
  /** `conn rejected` events. */
  logger?: Logger;
  /** How long to wait for an SSH connection's first stream (default 5000 ms). */
  peekTimeoutMs?: number;
  /** Handshake deadline (default 10 000 ms). */
  handshakeTimeoutMs?: number;
}

/**
 * A running iroh listener.
 *
 * @example
 * ```ts
 * import type { IrohListener } from "@alknet/core/transport";
 * const show = (l: IrohListener) => `${l.nodeId} on ${l.addrs.join(",")}`;
 * console.log(typeof show); // "function"
 * ```
 */
export interface IrohListener {
  /** This node's id (dial it as `iroh://NODEID`). */
  nodeId: string;
  /** The bound UDP sockets, `HOST:PORT`. */
  addrs: string[];
  /** The first bound socket as an address. */
  addr: Deno.NetAddr;
  /** ALPNs offered. */
  alpn: string[];
  /** Stops accepting and closes every connection. */
  close(): Promise<void>;
}

/** How long a server waits for the client to close a finished SSH connection. */
const LINGER_MS = 2000;

function netAddr(text: string | undefined): { hostname: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(text ?? "");
  return m ? { hostname: m[1], port: Number(m[2]) } : { hostname: "0.0.0.0", port: 0 };
}

/**
 * Starts an iroh endpoint that accepts `alknet/ssh` (one SSH session on the
 * first bidirectional stream), and `alknet/tcp` / `alknet/call` (one
 * stream each) when those handlers are given.
 *
 * @throws {TransportUrlError} for a malformed URL or when the binding cannot be loaded
 * @example
 * ```ts
 * import { listenIroh } from "@alknet/core/transport";
 * const l = await listenIroh({
 *   url: "iroh://127.0.0.1:0?relay=off",
 *   handlers: { ssh: (conn) => conn.close() },
 * }).catch(() => null);
 * console.log(l?.nodeId);
 * await l?.close();
 * ```
 */
export async function listenIroh(options: IrohListenOptions): Promise<IrohListener> {
  const u = typeof options.url === "string"
    ? parseIrohUrl(options.url)
    : options.url ?? { relay: true };
  if (u.nodeId) {
    throw new TransportUrlError(`iroh://${u.nodeId}`, "a listen URL takes no node id");
  }
  const h = options.handlers;
  if (typeof h?.ssh !== "function") {
    throw new TransportUrlError("iroh://", "handlers.ssh is required");
  }
  const alpn: string[] = [ALPN_SSH];
  if (h.call) alpn.push(ALPN_CALL);
  if (h.tcp) alpn.push(ALPN_TCP);
  const ep = await bindEndpoint({
    relay: u.relay,
    bind: bindAddrs(u.host, u.port),
    secretKey: options.secretKey,
    alpns: alpn,
  });
  const peekMs = options.peekTimeoutMs ?? 5000;
  const handshakeMs = options.handshakeTimeoutMs ?? 10_000;
  const conns = new Set<IrohConnection>();
  const streams = new Set<ByteConn>();
  let closing = false;
  const track = (c: ByteConn): ByteConn => {
    streams.add(c);
    const close = c.close.bind(c);
    c.close = () => {
      streams.delete(c);
      close();
    };
    return c;
  };
  const reject = (info: ConnInfo, reason: string) =>
    options.logger?.event("conn rejected", {
      remote: hostPort(info.remoteAddress, info.remotePort),
      transport: "iroh",
      peer: info.peerId,
      reason,
    });

  const handle = async (incoming: IrohIncoming) => {
    const from = await incoming.remoteAddr().catch(() => ({ kind: "unknown" } as const));
    const accepted = await withTimeout(
      incoming.accept().then((a) => a.connect()),
      handshakeMs,
      (late) => closeIroh(late),
    ).catch(() => null);
    if (!accepted || accepted === TIMED_OUT) return;
    const qc = accepted;
    if (closing) return closeIroh(qc);
    conns.add(qc);
    qc.closed().finally(() => conns.delete(qc)).catch(() => {});
    const negotiated = textOf(qc.alpn());
    const peerId = qc.remoteId().toString();
    const a = from.kind === "ip"
      ? netAddr((from as { addr?: string }).addr)
      : { hostname: peerId, port: 0 };
    const info: ConnInfo = {
      remoteAddress: a.hostname,
      remotePort: a.port,
      transport: "iroh",
      alpn: negotiated,
      peerId,
    };
    const route = alpnRoute(negotiated);
    if (route === "ssh") {
      const first = await withTimeout(qc.acceptBi(), peekMs).catch(() => null);
      if (!first || first === TIMED_OUT) {
        reject(info, "no-data");
        closeIroh(qc);
        return;
      }
      // Closing a QUIC connection discards unacknowledged data, so when the
      // SSH stream closes the server waits (bounded) for the client to close.
      const linger = () => {
        const t = setTimeout(() => closeIroh(qc), LINGER_MS);
        qc.closed().finally(() => clearTimeout(t)).catch(() => {});
      };
      h.ssh(track(irohStreamConn(first, linger)), info);
      return;
    }
    const handler: ConnHandler | undefined = route === "tcp"
      ? h.tcp
      : route === "call"
      ? h.call
      : undefined;
    if (!handler) {
      reject(info, "unknown-alpn");
      closeIroh(qc);
      return;
    }
    try {
      while (!closing) {
        const bi = await qc.acceptBi();
        handler(track(irohStreamConn(bi)), info);
      }
    } catch { /* connection closed */ }
  };

  // A failed accept is retried with back-off and logged once per burst; only close() ends it.
  const acceptLoop = startAcceptLoop({
    accept: async () => {
      const incoming = await ep.acceptNext();
      if (!incoming) throw new Deno.errors.BadResource("iroh endpoint closed");
      return incoming;
    },
  }, (incoming) => {
    if (closing) incoming.refuse().catch(() => {});
    else handle(incoming).catch(() => {});
  }, { logger: options.logger, transport: "iroh", addr: ep.id().toString() });
  const loop = acceptLoop.done;

  const addrs = ep.boundSockets();
  const nodeId = ep.id().toString();
  return {
    nodeId,
    addrs,
    addr: { transport: "udp", ...netAddr(addrs[0]) },
    alpn,
    async close() {
      closing = true;
      void acceptLoop.stop();
      for (const s of [...streams]) {
        try {
          s.close();
        } catch { /* closed */ }
      }
      for (const c of [...conns]) closeIroh(c);
      await withTimeout(ep.close(), 2000).catch(() => {});
      await withTimeout(loop, 2000);
    },
  };
}
