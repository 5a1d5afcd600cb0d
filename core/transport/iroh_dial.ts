/**
 * The `iroh://` dialer: a connection to a node by its node id (through
 * iroh's relays and discovery, or a direct address), from a fresh client
 * endpoint that closes with the session.
 *
 * @module
 */

import type { ByteConn } from "./stream.ts";
import { TransportUrlError } from "./errors.ts";
import { hostPort } from "./hostport.ts";
import { ALPN_SSH } from "./alpn.ts";
import { type IrohUrl, parseIrohUrl } from "./iroh_url.ts";
import {
  bindEndpoint,
  bytesOf,
  closeIroh,
  type IrohConnection,
  irohModule,
  irohStreamConn,
  textOf,
} from "./iroh_binding.ts";
import { TIMED_OUT, withTimeout } from "../util/timeout.ts";

/**
 * Options of {@link dialIroh} and {@link dialIrohSession}.
 *
 * @example
 * ```ts
 * import type { IrohDialOptions } from "@alknet/core/transport";
 * const o: IrohDialOptions = { alpn: "alknet/tcp", timeoutMs: 5000 };
 * console.log(o.alpn);
 * ```
 */
export interface IrohDialOptions {
  /** The ALPN (default `alknet/ssh`). */
  alpn?: string;
  /** Connect deadline (default 10 000 ms). */
  timeoutMs?: number;
  /** The client endpoint's secret key (random when absent). */
  secretKey?: Uint8Array;
}

/**
 * An iroh connection to a node, from which streams are opened.
 *
 * @example
 * ```ts
 * import type { IrohSession } from "@alknet/core/transport";
 * const use = async (s: IrohSession) => (await s.openStream()).close();
 * console.log(typeof use); // "function"
 * ```
 */
export interface IrohSession {
  /** The peer's node id. */
  readonly nodeId: string;
  /** The negotiated ALPN. */
  readonly alpn: string;
  /** Resolves when the connection has closed. */
  readonly closed: Promise<void>;
  /** Opens a bidirectional stream. */
  openStream(): Promise<ByteConn>;
  /** Closes the connection and the client endpoint. */
  close(): void;
}

/**
 * Connects to `url` (`iroh://NODEID[@HOST:PORT][?relay=off]`) from a fresh
 * client endpoint (closed with the session).
 *
 * @throws {TransportUrlError} for a malformed URL, an unreachable node or a missing binding
 * @example
 * ```ts
 * import { dialIrohSession } from "@alknet/core/transport";
 * const s = await dialIrohSession(`iroh://${"ab".repeat(32)}@127.0.0.1:1?relay=off`, {
 *   alpn: "alknet/tcp",
 *   timeoutMs: 500,
 * }).catch(() => null);
 * s?.close();
 * ```
 */
export async function dialIrohSession(
  url: string | IrohUrl,
  options: IrohDialOptions = {},
): Promise<IrohSession> {
  const u = typeof url === "string" ? parseIrohUrl(url) : url;
  const shown = typeof url === "string" ? url : `iroh://${u.nodeId ?? ""}`;
  if (!u.nodeId) throw new TransportUrlError(shown, "the node id is missing (iroh://NODEID)");
  if (!u.relay && u.host === undefined) {
    throw new TransportUrlError(
      shown,
      "relay=off needs a direct address (iroh://NODEID@HOST:PORT)",
    );
  }
  const iroh = irohModule();
  let id: unknown;
  try {
    id = iroh.EndpointId.fromString(u.nodeId);
  } catch (e) {
    throw new TransportUrlError(shown, `malformed node id: ${(e as Error).message}`);
  }
  const loopback = u.host === "127.0.0.1" || u.host === "::1" || u.host === "localhost";
  const ep = await bindEndpoint({
    relay: u.relay,
    bind: loopback ? ["127.0.0.1:0", "[::1]:0"] : [],
    secretKey: options.secretKey,
  });
  const direct = u.host !== undefined
    ? [hostPort(u.host === "localhost" ? "127.0.0.1" : u.host, u.port ?? 0)]
    : [];
  const alpn = options.alpn ?? ALPN_SSH;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const pending = ep.connect(new iroh.EndpointAddr(id, null, direct), bytesOf(alpn));
  let conn: IrohConnection | typeof TIMED_OUT;
  try {
    conn = await withTimeout(pending, timeoutMs, (late) => closeIroh(late));
  } catch (e) {
    await withTimeout(ep.close(), 1000).catch(() => {});
    throw new TransportUrlError(shown, `cannot connect: ${(e as Error).message.split("\n")[0]}`);
  }
  if (conn === TIMED_OUT) {
    await withTimeout(ep.close(), 1000).catch(() => {});
    throw new TransportUrlError(shown, `connect timed out after ${timeoutMs} ms`);
  }
  const qc = conn;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    closeIroh(qc);
    withTimeout(ep.close(), 2000).catch(() => {});
  };
  const done = qc.closed().then(() => {}, () => {});
  done.then(close);
  return {
    nodeId: qc.remoteId().toString(),
    alpn: textOf(qc.alpn()),
    closed: done,
    async openStream() {
      return irohStreamConn(await qc.openBi());
    },
    close,
  };
}

/**
 * Connects to `url` and returns the connection's first bidirectional
 * stream (ALPN `alknet/ssh` by default); closing the stream closes the
 * connection. This is what SSH over `iroh://` runs on.
 *
 * @throws {TransportUrlError} for a malformed URL, an unreachable node or a missing binding
 * @example
 * ```ts
 * import { dialIroh } from "@alknet/core/transport";
 * const conn = await dialIroh(`iroh://${"ab".repeat(32)}@127.0.0.1:1?relay=off`, { timeoutMs: 500 })
 *   .catch(() => null);
 * conn?.close();
 * ```
 */
export async function dialIroh(
  url: string | IrohUrl,
  options: IrohDialOptions = {},
): Promise<ByteConn> {
  const session = await dialIrohSession(url, options);
  try {
    const conn = await session.openStream();
    const close = conn.close.bind(conn);
    conn.close = () => {
      close();
      session.close();
    };
    return conn;
  } catch (e) {
    session.close();
    throw e;
  }
}
