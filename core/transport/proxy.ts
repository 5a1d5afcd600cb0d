/**
 * Upstream proxies: connect to a target through SOCKS5 (RFC 1928, optional
 * RFC 1929 credentials) or HTTP CONNECT, with host names passed to the proxy
 * unresolved (no local DNS lookup, no leak). Used by the client dialers
 * (`--proxy`) and by the server's egress ({@link egressDialer}).
 *
 * @module
 */

import { type Dialer, DialError, dialTcp } from "./tcp.ts";
import { socks5ClientConnect, Socks5ClientError } from "./socks5_client.ts";
import { writeAll } from "./stream.ts";
import { ProxyError } from "./errors.ts";
import { parseProxyUrl, type ProxyUrl } from "./url.ts";
import { toBase64 } from "../util/bytes.ts";
import { hostPort } from "./hostport.ts";

/** The longest HTTP CONNECT response header accepted. */
const MAX_CONNECT_RESPONSE = 16 * 1024;

function socksKind(reply: number): ProxyError["kind"] {
  if (reply === 5) return "refused";
  if (reply === 6) return "timeout";
  if (reply === 2) return "forbidden";
  if (reply === -1) return "protocol";
  return "unreachable";
}

function httpKind(status: number): ProxyError["kind"] {
  if (status === 403 || status === 407) return "forbidden";
  if (status === 504 || status === 408) return "timeout";
  return "unreachable";
}

async function httpConnect(
  conn: Deno.TcpConn,
  host: string,
  port: number,
  credentials?: { username: string; password: string },
): Promise<void> {
  if (/[\0-\x20\x7f]/.test(host)) {
    throw new ProxyError("unreachable", "target host has spaces or control characters");
  }
  const authority = hostPort(host, port);
  let req = `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n`;
  if (credentials) {
    const raw = new TextEncoder().encode(`${credentials.username}:${credentials.password}`);
    req += `Proxy-Authorization: Basic ${toBase64(raw)}\r\n`;
  }
  await writeAll(conn, new TextEncoder().encode(req + "\r\n"));
  // One byte at a time: the bytes after the header belong to the target
  // (servers that speak first, like SSH) and must stay in the connection.
  const head: number[] = [];
  const one = new Uint8Array(1);
  while (head.length < MAX_CONNECT_RESPONSE) {
    const n = await conn.read(one);
    if (n === null) {
      throw new ProxyError("protocol", "HTTP proxy closed the connection during CONNECT");
    }
    if (n === 0) continue;
    head.push(one[0]);
    const l = head.length;
    if (
      l >= 4 && head[l - 4] === 13 && head[l - 3] === 10 && head[l - 2] === 13 && head[l - 1] === 10
    ) {
      break;
    }
  }
  if (head.length >= MAX_CONNECT_RESPONSE) {
    throw new ProxyError("protocol", "HTTP proxy response header is too long");
  }
  const statusLine = new TextDecoder().decode(new Uint8Array(head)).split("\r\n")[0];
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!m) throw new ProxyError("protocol", "HTTP proxy sent no valid status line");
  const status = Number(m[1]);
  if (status < 200 || status > 299) {
    throw new ProxyError(httpKind(status), `HTTP CONNECT answered ${status}`);
  }
}

/**
 * Opens a TCP connection to `host:port` through `proxy` (TCP_NODELAY set).
 * The host name goes to the proxy as text; nothing is resolved locally.
 *
 * @throws {ProxyError} when the proxy cannot be reached or refuses (kind says why)
 * @example
 * ```ts
 * import { dialViaProxy } from "@alknet/core/transport";
 * const conn = await dialViaProxy("socks5://127.0.0.1:1080", "example.com", 443).catch((e) => e);
 * console.log(conn instanceof Error ? conn.message : "connected");
 * if (!(conn instanceof Error)) conn.close();
 * ```
 */
export async function dialViaProxy(
  proxy: string | ProxyUrl,
  host: string,
  port: number,
  timeoutMs = 10_000,
): Promise<Deno.TcpConn> {
  const p = typeof proxy === "string" ? parseProxyUrl(proxy) : proxy;
  let conn: Deno.TcpConn;
  try {
    conn = await dialTcp(p.host, p.port, timeoutMs);
  } catch (e) {
    const kind = e instanceof DialError ? e.kind : "unreachable";
    throw new ProxyError(kind, `cannot reach the ${p.kind} proxy (${(e as Error).message})`);
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      conn.close();
    } catch { /* closed */ }
  }, timeoutMs);
  try {
    if (p.kind === "socks5") await socks5ClientConnect(conn, host, port, p.credentials);
    else await httpConnect(conn, host, port, p.credentials);
    return conn;
  } catch (e) {
    try {
      conn.close();
    } catch { /* closed */ }
    if (timedOut) {
      throw new ProxyError("timeout", `${p.kind} proxy did not answer in ${timeoutMs} ms`);
    }
    if (e instanceof ProxyError) throw e;
    if (e instanceof Socks5ClientError) throw new ProxyError(socksKind(e.reply), e.message);
    throw new ProxyError("protocol", `${p.kind} proxy failed: ${(e as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A {@link Dialer} for the server's outbound tunnel traffic that goes
 * through an upstream proxy, host names unresolved. Proxy failures become
 * {@link DialError}s: refused (SOCKS5 reply 5), timeout (reply 6, HTTP
 * 504/408, or no answer), unreachable (everything else, including a proxy
 * that refuses by policy or cannot be reached).
 *
 * @example
 * ```ts
 * import { egressDialer } from "@alknet/core/transport";
 * const dial = egressDialer("socks5://127.0.0.1:1080");
 * const conn = await dial("example.com", 80).catch((e) => e.kind);
 * console.log(conn);
 * ```
 */
export function egressDialer(proxy: string | ProxyUrl, timeoutMs = 10_000): Dialer {
  const p = typeof proxy === "string" ? parseProxyUrl(proxy) : proxy;
  return async (host, port) => {
    try {
      return await dialViaProxy(p, host, port, timeoutMs);
    } catch (e) {
      if (e instanceof ProxyError) {
        throw new DialError(
          e.kind === "refused" ? "refused" : e.kind === "timeout" ? "timeout" : "unreachable",
        );
      }
      throw new DialError("unreachable");
    }
  };
}
