/**
 * The targets {@link connectCall} takes: `ssh://`, `tcp://`, `tls://`,
 * `quic://`, `ws://`, `wss://` and `iroh://` URLs, parsed once with the
 * transport layer's parsers, default ports filled in.
 *
 * @module
 */

import {
  type IrohUrl,
  parseIrohUrl,
  parseTransportUrl,
  type TransportUrl,
} from "@alknet/core/transport";
import { CALL_WS_PATH } from "./carrier_ws.ts";
import { ConnectError } from "./errors.ts";

/**
 * The schemes {@link connectCall} understands.
 *
 * @example
 * ```ts
 * import { CALL_SCHEMES } from "@alknet/call";
 * console.log(CALL_SCHEMES.join(" ")); // "ssh tcp tls quic ws wss iroh"
 * ```
 */
export const CALL_SCHEMES: readonly CallScheme[] = [
  "ssh",
  "tcp",
  "tls",
  "quic",
  "ws",
  "wss",
  "iroh",
];

/**
 * A scheme of {@link CALL_SCHEMES}: `ssh` is the `alknet-control` channel
 * of an SSH session over TCP, `tcp` the framed protocol on plain TCP,
 * `tls`/`quic`/`iroh` a stream with ALPN `alknet/call`, `ws`/`wss` the
 * `/alknet/call` WebSocket.
 *
 * @example
 * ```ts
 * import type { CallScheme } from "@alknet/call";
 * const s: CallScheme = "quic";
 * console.log(s);
 * ```
 */
export type CallScheme = "ssh" | "tcp" | "tls" | "quic" | "ws" | "wss" | "iroh";

/** A parsed call target. */
export interface CallTarget {
  /** The scheme. */
  scheme: CallScheme;
  /** Host (IPv6 without brackets); the node id for iroh. */
  host: string;
  /** Port (22 for iroh, which has none). */
  port: number;
  /** The WebSocket path (`ws`, `wss`; default `/alknet/call`). */
  path?: string;
  /** The parsed `iroh://` URL. */
  iroh?: IrohUrl;
  /** The target as given, for messages. */
  url: string;
}

const DEFAULT_PORTS: Record<string, number> = { ssh: 22, tls: 443, quic: 443, ws: 80, wss: 443 };

/** Appends the scheme's default port when the authority has none. */
function withDefaultPort(scheme: string, authority: string): string {
  const port = DEFAULT_PORTS[scheme];
  if (port === undefined) return authority;
  const hasPort = authority.startsWith("[") ? /\]:\d*$/.test(authority) : authority.includes(":");
  return hasPort ? authority : `${authority}:${port}`;
}

/**
 * Parses a call target URL.
 *
 * @throws {ConnectError} `invalid-target` for a malformed URL or an unknown scheme
 */
export function parseCallTarget(text: string): CallTarget {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)(.*)$/.exec(text);
  if (!m) {
    throw new ConnectError(
      "invalid-target",
      text,
      `not a URL (expected ${CALL_SCHEMES.join(", ")}://HOST:PORT)`,
    );
  }
  const scheme = m[1].toLowerCase();
  if (!(CALL_SCHEMES as readonly string[]).includes(scheme)) {
    throw new ConnectError(
      "invalid-target",
      text,
      `unsupported scheme ${scheme}:// (expected ${CALL_SCHEMES.join(", ")})`,
    );
  }
  if (scheme === "iroh") {
    let iroh: IrohUrl;
    try {
      iroh = parseIrohUrl(text);
    } catch (e) {
      throw new ConnectError("invalid-target", text, (e as Error).message, { cause: e });
    }
    if (!iroh.nodeId) throw new ConnectError("invalid-target", text, "the node id is missing");
    if (!iroh.relay && iroh.host === undefined) {
      throw new ConnectError(
        "invalid-target",
        text,
        "relay=off needs a direct address (iroh://NODEID@HOST:PORT)",
      );
    }
    return { scheme: "iroh", host: iroh.nodeId, port: 22, iroh, url: text };
  }
  const rest = m[3];
  if ((scheme !== "ws" && scheme !== "wss") && rest !== "" && rest !== "/") {
    throw new ConnectError("invalid-target", text, `${scheme}:// takes no path`);
  }
  const transportScheme = scheme === "ssh" ? "tcp" : scheme;
  let u: TransportUrl;
  try {
    u = parseTransportUrl(`${transportScheme}://${withDefaultPort(scheme, m[2])}${rest}`);
  } catch (e) {
    throw new ConnectError("invalid-target", text, (e as Error).message, { cause: e });
  }
  if (u.port === 0) throw new ConnectError("invalid-target", text, "a port is required");
  const target: CallTarget = {
    scheme: scheme as CallScheme,
    host: u.host,
    port: u.port,
    url: text,
  };
  if (scheme === "ws" || scheme === "wss") {
    target.path = rest === "" || rest === "/" ? CALL_WS_PATH : rest;
  }
  return target;
}
