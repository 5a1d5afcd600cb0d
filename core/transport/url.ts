/**
 * Transport URLs: `tcp://HOST:PORT` (or bare `HOST:PORT`), `tls://`,
 * `quic://`, `ws://HOST:PORT[/path]`, `wss://...`, and proxy URLs
 * `socks5://[user:pass@]HOST:PORT`, `http://HOST:PORT`. IPv6 literals go in
 * brackets.
 *
 * @module
 */

import { ForwardSpecError, parseHostPort } from "./hostport.ts";
import { TransportUrlError } from "./errors.ts";

/**
 * Transport schemes for listening and connecting.
 *
 * @example
 * ```ts
 * import type { TransportScheme } from "@alknet/core/transport";
 * const s: TransportScheme = "wss";
 * console.log(s);
 * ```
 */
export type TransportScheme = "tcp" | "tls" | "quic" | "ws" | "wss";

/**
 * A parsed transport URL.
 *
 * @example
 * ```ts
 * import { parseTransportUrl, type TransportUrl } from "@alknet/core/transport";
 * const u: TransportUrl = parseTransportUrl("tls://[::1]:443");
 * console.log(u.host); // "::1"
 * ```
 */
export interface TransportUrl {
  /** The scheme (`tcp` for a bare `HOST:PORT`). */
  scheme: TransportScheme;
  /** Host name or IP literal (IPv6 without brackets). */
  host: string;
  /** Port (0 lets a listener pick one). */
  port: number;
  /** HTTP path for `ws`/`wss` (default `/alknet/ssh`); `undefined` otherwise. */
  path?: string;
}

const SCHEMES = new Set<TransportScheme>(["tcp", "tls", "quic", "ws", "wss"]);

/**
 * The WebSocket path that carries SSH.
 *
 * @example
 * ```ts
 * import { WS_SSH_PATH } from "@alknet/core/transport";
 * console.log(WS_SSH_PATH); // "/alknet/ssh"
 * ```
 */
export const WS_SSH_PATH = "/alknet/ssh";

function hostPortOf(url: string, rest: string): { host: string; port: number } {
  try {
    return parseHostPort(rest);
  } catch (e) {
    if (e instanceof ForwardSpecError) throw new TransportUrlError(url, e.message);
    throw e;
  }
}

/**
 * Parses a listen or connect URL.
 *
 * @throws {TransportUrlError} for an unknown scheme or a bad address
 * @example
 * ```ts
 * import { parseTransportUrl } from "@alknet/core/transport";
 * console.log(parseTransportUrl("quic://[::1]:4433")); // { scheme: "quic", host: "::1", port: 4433 }
 * console.log(parseTransportUrl("wss://example.com:443").path); // "/alknet/ssh"
 * ```
 */
export function parseTransportUrl(text: string): TransportUrl {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/]*)(\/.*)?$/.exec(text);
  if (!m) {
    if (text.includes("://")) throw new TransportUrlError(text, "malformed URL");
    return { scheme: "tcp", ...hostPortOf(text, text) };
  }
  const scheme = m[1].toLowerCase() as TransportScheme;
  if (!SCHEMES.has(scheme)) {
    throw new TransportUrlError(text, `unknown scheme '${m[1]}' (use tcp, tls, quic, ws or wss)`);
  }
  const { host, port } = hostPortOf(text, m[2]);
  const rawPath = m[3];
  if (scheme === "ws" || scheme === "wss") {
    const path = !rawPath || rawPath === "/" ? WS_SSH_PATH : rawPath;
    return { scheme, host, port, path };
  }
  if (rawPath && rawPath !== "/") {
    throw new TransportUrlError(text, `${scheme}:// takes no path`);
  }
  return { scheme, host, port };
}

/**
 * A parsed upstream proxy URL.
 *
 * @example
 * ```ts
 * import { parseProxyUrl, type ProxyUrl } from "@alknet/core/transport";
 * const p: ProxyUrl = parseProxyUrl("http://127.0.0.1:3128");
 * console.log(p.kind); // "http"
 * ```
 */
export interface ProxyUrl {
  /** `socks5` (host names sent unresolved) or `http` (HTTP CONNECT). */
  kind: "socks5" | "http";
  /** Proxy host. */
  host: string;
  /** Proxy port. */
  port: number;
  /** Credentials (SOCKS5 RFC 1929 username/password, or HTTP Basic). */
  credentials?: { username: string; password: string };
}

/**
 * Parses `socks5://[user:pass@]HOST:PORT` (also `socks5h://`) or
 * `http://[user:pass@]HOST:PORT`.
 *
 * @throws {TransportUrlError} for anything else
 * @example
 * ```ts
 * import { parseProxyUrl } from "@alknet/core/transport";
 * console.log(parseProxyUrl("socks5://me:pw@127.0.0.1:1080").credentials?.username); // "me"
 * ```
 */
export function parseProxyUrl(text: string): ProxyUrl {
  const shown = text.replace(/\/\/([^@/:]*):[^@/]*@/, "//$1:***@");
  const m = /^([a-zA-Z0-9]+):\/\/(?:([^@/]*)@)?([^/@]+)\/?$/.exec(text);
  if (!m) {
    throw new TransportUrlError(
      shown,
      "proxy must be socks5://[user:pass@]HOST:PORT or http://HOST:PORT",
    );
  }
  const scheme = m[1].toLowerCase();
  const kind = scheme === "socks5" || scheme === "socks5h"
    ? "socks5"
    : scheme === "http"
    ? "http"
    : null;
  if (!kind) {
    throw new TransportUrlError(shown, `unsupported proxy scheme '${m[1]}' (use socks5 or http)`);
  }
  const { host, port } = hostPortOf(shown, m[3]);
  if (port === 0) throw new TransportUrlError(shown, "proxy port must not be 0");
  let credentials: ProxyUrl["credentials"];
  if (m[2] !== undefined) {
    const i = m[2].indexOf(":");
    try {
      credentials = {
        username: decodeURIComponent(i < 0 ? m[2] : m[2].slice(0, i)),
        password: decodeURIComponent(i < 0 ? "" : m[2].slice(i + 1)),
      };
    } catch {
      throw new TransportUrlError(shown, "credentials are not valid percent-encoding");
    }
    if (credentials.username.length > 255 || credentials.password.length > 255) {
      throw new TransportUrlError(shown, "proxy user name and password are limited to 255 bytes");
    }
  }
  return { kind, host, port, credentials };
}
