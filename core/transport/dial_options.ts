/**
 * What every client dialer takes ({@link DialOptions}), TCP with or without
 * an upstream proxy, and the handshake deadline the dialers share.
 *
 * @module
 */

import type { ProxyUrl } from "./url.ts";
import { DialError, dialTcp } from "./tcp.ts";
import { dialViaProxy } from "./proxy.ts";
import { TIMED_OUT, withTimeout } from "../util/timeout.ts";

/**
 * Options shared by the client dialers.
 *
 * @example
 * ```ts
 * import type { DialOptions } from "@alknet/core/transport";
 * const o: DialOptions = {
 *   proxy: "socks5://127.0.0.1:1080",
 *   fingerprint: "SHA256:" + "0".repeat(64),
 *   alpn: ["alknet/ssh"],
 * };
 * console.log(o.alpn); // ["alknet/ssh"]
 * ```
 */
export interface DialOptions {
  /** Upstream proxy: `socks5://[user:pass@]HOST:PORT` or `http://HOST:PORT`. */
  proxy?: string | ProxyUrl;
  /** Deadline for connecting, proxy and handshake (default 10 000 ms). */
  timeoutMs?: number;
  /** ALPNs to offer on TLS and QUIC (default `["alknet/ssh"]`). */
  alpn?: string[];
  /** TLS server name (SNI and verification; default: the host). */
  serverName?: string;
  /** Extra trusted CA certificates (PEM). */
  caCerts?: string[];
  /** A PEM file of extra trusted CA certificates. */
  caFile?: string;
  /** Accept any certificate (testing only). */
  insecure?: boolean;
  /** Pinned `SHA256:<hex>` fingerprint of the server certificate. */
  fingerprint?: string;
  /** WebSocket path (default `/alknet/ssh`). */
  wsPath?: string;
  /** Extra WebSocket request headers (e.g. `authorization`). */
  headers?: Record<string, string>;
  /** QUIC keepalive interval (default 15 000 ms). */
  quicKeepAliveMs?: number;
}

/** The default deadline of a dial, in milliseconds. */
export const DEFAULT_DIAL_TIMEOUT_MS = 10_000;

/**
 * Resolves to `p`'s value, or fails with a {@link DialError} `timeout`
 * ("`what` timed out after N ms") after `ms`; a value that arrives late goes
 * to `onLate` (to close it). Internal to the dialers.
 */
export async function dialDeadline<T>(
  p: Promise<T>,
  ms: number,
  what: string,
  onLate?: (v: T) => void,
): Promise<T> {
  const r = await withTimeout(p, ms, onLate);
  if (r === TIMED_OUT) throw new DialError("timeout", `${what} timed out after ${ms} ms`);
  return r;
}

/**
 * Opens TCP to `host:port`, directly (with NODELAY) or through `proxy`.
 *
 * @example
 * ```ts
 * import { dialTcpVia } from "@alknet/core/transport";
 * const conn = await dialTcpVia("127.0.0.1", 1, { timeoutMs: 500 }).catch(() => null);
 * conn?.close();
 * ```
 */
export function dialTcpVia(
  host: string,
  port: number,
  options: Pick<DialOptions, "proxy" | "timeoutMs"> = {},
): Promise<Deno.TcpConn> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS;
  if (options.proxy) return dialViaProxy(options.proxy, host, port, timeoutMs);
  return dialTcp(host, port, timeoutMs);
}
