/**
 * The HTTP side of an endpoint, shared by every transport: the SSH
 * WebSocket at `/alknet/ssh`, the `http` handler, the stealth decoy site, and
 * the private loopback `Deno.serve` that decrypted TLS bytes (and peeked
 * plain bytes) are relayed to, so HTTP/1.1 and HTTP/2 framing are Deno's.
 * The real peer address is looked up by the relay's local port. Internal to
 * the endpoint.
 *
 * @module
 */

import type { ByteConn } from "./stream.ts";
import { closeQuietly, relayConns, writeAll } from "./stream.ts";
import { webSocketConn } from "./conn.ts";
import { decoySite } from "./decoy.ts";
import { StealthFront } from "./stealth_front.ts";
import { WS_SSH_PATH } from "./url.ts";
import type { ConnInfo, EndpointOptions, TransportKind } from "./endpoint_types.ts";
import { withTimeout } from "../util/timeout.ts";

/**
 * Routes HTTP requests and relays raw HTTP bytes to an internal server.
 * Internal to the listeners of this folder (not exported by `@alknet/core/transport`).
 */
export class HttpFront {
  #options: EndpointOptions;
  #track: (c: ByteConn) => ByteConn;
  #decoy?: (req: Request) => Promise<Response>;
  #internal?: { server: Deno.HttpServer<Deno.NetAddr>; ac: AbortController; port: number };
  #peers = new Map<number, ConnInfo>();
  /** Stealth mode's state (decoy site, upstream, TLS policy), when stealth. */
  readonly stealth?: StealthFront;

  /** Creates the front; `track` registers every connection it opens for shutdown. */
  constructor(options: EndpointOptions, track: (c: ByteConn) => ByteConn) {
    this.#options = options;
    this.#track = track;
    if (options.stealth) {
      this.#decoy = decoySite({ dir: options.decoyDir });
      this.stealth = new StealthFront(options);
    }
  }

  /** Stealth mode: does this request carry `Authorization: Bearer` with a token the node accepts? */
  async #bearerAccepted(req: Request, info: ConnInfo): Promise<boolean> {
    const m = /^Bearer +([^ ]+)$/i.exec(req.headers.get("authorization") ?? "");
    if (!m || !this.#options.acceptToken) return false;
    try {
      return await this.#options.acceptToken(m[1], info);
    } catch {
      return false;
    }
  }

  /** Answers one request: the SSH WebSocket, the `http` handler, the decoy, or 404. */
  async route(req: Request, info: ConnInfo): Promise<Response> {
    const url = new URL(req.url);
    if (
      url.pathname === WS_SSH_PATH &&
      (req.headers.get("upgrade") ?? "").toLowerCase() === "websocket" &&
      (!this.stealth || await this.#bearerAccepted(req, info))
    ) {
      const { socket, response } = Deno.upgradeWebSocket(req);
      const transport: TransportKind = info.transport === "tls" || info.transport === "wss"
        ? "wss"
        : "ws";
      const conn = this.#track(webSocketConn(socket));
      socket.addEventListener("open", () => {
        this.#options.handlers.ssh(conn, { ...info, transport, alpn: info.alpn });
      }, { once: true });
      return response;
    }
    let res: Response | null | undefined = null;
    if (this.#options.handlers.http) {
      try {
        res = await this.#options.handlers.http(req, info);
      } catch {
        res = this.#decoy ? null : new Response("Internal Server Error\n", { status: 500 });
      }
    }
    if (this.#decoy) {
      if (res && res.status >= 400) {
        await res.body?.cancel().catch(() => {});
        res = null;
      }
      return res ?? await this.#decoy(req);
    }
    return res ?? new Response("Not Found\n", {
      status: 404,
      headers: { "content-type": "text/plain" },
    });
  }

  #startInternal(): { port: number } {
    if (this.#internal) return this.#internal;
    const ac = new AbortController();
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      signal: ac.signal,
      onListen: () => {},
      onError: () => new Response(null, { status: 500 }),
    }, (req, sinfo) => {
      const addr = sinfo.remoteAddr as Deno.NetAddr;
      const info = this.#peers.get(addr.port) ??
        { remoteAddress: addr.hostname, remotePort: addr.port, transport: "tcp" as const };
      return this.route(req, info);
    });
    const internal = { server, ac, port: server.addr.port };
    this.#internal = internal;
    // A failed accept (EMFILE) ends Deno.serve and rejects `finished`;
    // unhandled, that would end the process. The next relay starts afresh.
    server.finished.catch(() => {}).finally(() => {
      if (this.#internal === internal) this.#internal = undefined;
    });
    return internal;
  }

  /** Relays decrypted (or peeked plain) HTTP bytes to the internal server. */
  async relay(conn: ByteConn, prefix: Uint8Array, info: ConnInfo): Promise<void> {
    let inner: Deno.TcpConn;
    try {
      const { port } = this.#startInternal();
      inner = await Deno.connect({ hostname: "127.0.0.1", port });
    } catch {
      conn.close();
      return;
    }
    inner.setNoDelay(true);
    const local = (inner.localAddr as Deno.NetAddr).port;
    this.#peers.set(local, info);
    const tracked = this.#track(inner);
    try {
      if (prefix.length > 0) await writeAll(tracked, prefix);
      await relayConns(conn, tracked);
    } catch {
      closeQuietly(conn);
      closeQuietly(tracked);
    } finally {
      this.#peers.delete(local);
    }
  }

  /** Stops the internal server (bounded wait). */
  async close(): Promise<void> {
    const i = this.#internal;
    if (!i) return;
    i.ac.abort();
    await withTimeout(i.server.finished, 2000);
  }
}
