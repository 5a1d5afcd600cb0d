/**
 * The listeners of `serve()`: one per listen URL, each accepted connection
 * handed to one protocol handler. Plain `tcp://` is SSH and, as sshd does,
 * sends its identification line at once (`ssh-keyscan` and scanners work;
 * an HTTP client on that port just sees the banner); `tls://`, `quic://`,
 * `ws://`, `wss://` are transport endpoints; `iroh://` loads the iroh
 * binding on first use. Every listener shares the SSH server's limiter: one
 * per-address cap on unauthenticated connections for the whole node, and
 * the deadlines of its limits.
 *
 * @module
 */

import type { SshServer } from "../ssh/server.ts";
import { type IrohListener, listenIroh } from "../transport/iroh_listen.ts";
import { closeQuietly, connToDuplex } from "../transport/stream.ts";
import { hostPort } from "../transport/hostport.ts";
import { type AcceptLoop, startAcceptLoop } from "../transport/accept_loop.ts";
import {
  type ConnInfo,
  type Endpoint,
  type EndpointHandlers,
  listenEndpoint,
} from "../transport/endpoint.ts";
import type { Logger } from "../util/log.ts";
import { isIrohUrl, parseListenAddress } from "./serve_options.ts";

/**
 * One bound listener.
 *
 * @example
 * ```ts
 * import type { Listening } from "@alknet/core";
 * const l: Listening = {
 *   url: "tls://0.0.0.0:443", address: "tls://0.0.0.0:443", transport: "tls",
 *   addr: { transport: "tcp", hostname: "0.0.0.0", port: 443 },
 * };
 * console.log(l.address); // "tls://0.0.0.0:443"
 * ```
 */
export interface Listening {
  /** The listen URL it came from. */
  url: string;
  /**
   * Where clients reach it, as a URL with the port resolved:
   * `ssh://HOST:PORT` (plain tcp), `tls://`, `quic://`, `ws://`, `wss://`, `iroh://NODEID`.
   */
  address: string;
  /** `tcp`, `tls`, `quic`, `ws`, `wss` or `iroh`. */
  transport: string;
  /** The bound address (port resolved when 0 was asked). */
  addr: Deno.NetAddr;
  /** ALPNs offered (TLS, QUIC and iroh). */
  alpn?: string[];
  /** The node id (`iroh` only): clients dial `iroh://NODEID`. */
  nodeId?: string;
}

/** What {@link bindListeners} needs. */
export interface ListenerSetup {
  /** The protocol handlers shared by every endpoint. */
  handlers: EndpointHandlers;
  /** The SSH server plain `tcp://` connections go to. */
  ssh: SshServer;
  /** `conn rejected` events. */
  logger: Logger;
  /** Certificate for `tls://`, `quic://`, `wss://`. */
  tls?: { cert: string; key: string };
  /** Stealth decoy on TLS/WebSocket listeners. */
  stealth?: boolean;
  /** Decoy site directory. */
  decoyDir?: string;
  /** Stealth: relay unproven clients to this web server instead. */
  decoyUpstream?: string;
  /** Stealth: checks the token a client proves itself with in its first bytes. */
  acceptToken?: (token: string, info: ConnInfo) => boolean | Promise<boolean>;
  /** First-bytes deadline. */
  peekTimeoutMs: number;
  /** The iroh endpoint's secret key. */
  irohSecretKey?: () => Promise<Uint8Array | undefined>;
}

/** The bound listeners of a node. */
export interface BoundListeners {
  /** Every listener, in listen order. */
  listening: Listening[];
  /** Stops accepting plain `tcp://` connections. */
  stopAccepting(): Promise<void>;
  /** Closes the transport endpoints (and the connections they accepted). */
  closeEndpoints(): Promise<void>;
  /** Serves a new certificate on `tls://` and `wss://` from the next handshake on. */
  setCertificate(cert: string, key: string): void;
}

function addressOf(transport: string, addr: Deno.NetAddr, nodeId?: string): string {
  if (nodeId) return `iroh://${nodeId}`;
  return `${transport === "tcp" ? "ssh" : transport}://${hostPort(addr.hostname, addr.port)}`;
}

/**
 * Binds every listen URL, in order; on failure closes what was bound.
 */
export async function bindListeners(
  listen: string[],
  setup: ListenerSetup,
): Promise<BoundListeners> {
  const plain: Deno.TcpListener[] = [];
  const endpoints: (Endpoint | IrohListener)[] = [];
  const listening: Listening[] = [];
  const closeAll = async () => {
    for (const l of plain) {
      try {
        l.close();
      } catch { /* closed */ }
    }
    await Promise.all(endpoints.map((ep) => ep.close()));
  };
  try {
    for (const url of listen) {
      if (isIrohUrl(url)) {
        // The iroh binding is loaded here, on the first iroh:// listener.
        const ep = await listenIroh({
          url,
          secretKey: await setup.irohSecretKey?.(),
          handlers: setup.handlers,
          logger: setup.logger,
          peekTimeoutMs: setup.peekTimeoutMs,
        });
        endpoints.push(ep);
        listening.push({
          url,
          address: addressOf("iroh", ep.addr, ep.nodeId),
          transport: "iroh",
          addr: ep.addr,
          alpn: ep.alpn,
          nodeId: ep.nodeId,
        });
        continue;
      }
      const a = parseListenAddress(url);
      if (a.scheme === "tcp") {
        const listener = Deno.listen({ hostname: a.host, port: a.port, transport: "tcp" });
        plain.push(listener);
        const addr = listener.addr as Deno.NetAddr;
        listening.push({ url, address: addressOf("tcp", addr), transport: "tcp", addr });
        continue;
      }
      const ep = await listenEndpoint(url, {
        handlers: setup.handlers,
        cert: setup.tls?.cert,
        key: setup.tls?.key,
        stealth: setup.stealth,
        decoyDir: setup.decoyDir,
        decoyUpstream: setup.decoyUpstream,
        acceptToken: setup.acceptToken,
        peekTimeoutMs: setup.peekTimeoutMs,
        logger: setup.logger,
        limiter: setup.ssh.limiter,
      });
      endpoints.push(ep);
      listening.push({
        url,
        address: addressOf(ep.transport, ep.addr),
        transport: ep.transport,
        addr: ep.addr,
        alpn: ep.alpn,
      });
    }
  } catch (e) {
    await closeAll();
    throw e;
  }
  const accepting: AcceptLoop[] = plain.map((listener) => {
    const addr = listener.addr as Deno.NetAddr;
    return startAcceptLoop(listener, (conn) => acceptSsh(conn, setup.ssh, setup.logger), {
      logger: setup.logger,
      transport: "tcp",
      addr: hostPort(addr.hostname, addr.port),
    });
  });
  return {
    listening,
    async stopAccepting() {
      for (const l of plain) {
        try {
          l.close();
        } catch { /* closed */ }
      }
      await Promise.all(accepting.map((a) => a.stop()));
    },
    async closeEndpoints() {
      await Promise.all(endpoints.map((ep) => ep.close()));
    },
    setCertificate(cert, key) {
      for (const ep of endpoints) {
        if ("transport" in ep && (ep.transport === "tls" || ep.transport === "wss")) {
          ep.setCertificate(cert, key);
        }
      }
    },
  };
}

/**
 * One plain `tcp://` connection: admitted (the per-address caps and the
 * penalty window, checked before any byte is sent) and handed to the SSH
 * server, which sends its identification line at once and runs the
 * pre-auth clock from this accept.
 */
function acceptSsh(conn: Deno.TcpConn, ssh: SshServer, logger: Logger): void {
  conn.setNoDelay(true);
  const peer = conn.remoteAddr as Deno.NetAddr;
  const info = { remoteAddress: peer.hostname, remotePort: peer.port, transport: "tcp" };
  const slot = ssh.limiter.admitUnauthenticated(peer.hostname);
  if (!slot) {
    logger.event("conn rejected", {
      remote: hostPort(peer.hostname, peer.port),
      transport: "tcp",
      reason: "too-many-unauthenticated",
    });
    return closeQuietly(conn);
  }
  // Refused sources (penalty, too many connections) cost one accept and one close.
  const limit = ssh.admit(info);
  if (!limit) {
    slot.release();
    return closeQuietly(conn);
  }
  const socket = connToDuplex(conn, { remoteAddress: peer.hostname, remotePort: peer.port });
  socket.once("close", slot.release);
  ssh.handle(socket, { ...info, limit, acceptedAt: Date.now(), authenticated: slot.release });
}
