/**
 * Who reaches alknet on a TLS listener, decided on the client's first bytes
 * (as Trojan decides: one read, no waiting for more). A client proves
 * itself with a token it already carries:
 *
 * - the native header (`alknet/tcp`'s wire format) as the very first bytes
 *   after the handshake, its token valid: host `alknet-ssh` makes the rest
 *   of the connection an SSH session, `alknet-control` a call-protocol
 *   stream, any other host a native forward (status byte `0` first, as for
 *   `alknet/tcp`);
 * - a first HTTP/1.1 request carrying `Authorization: Bearer <valid token>`
 *   (the WebSocket upgrades of `/alknet/ssh` and `/alknet/call`): the
 *   connection goes to alknet's HTTP server.
 *
 * In stealth mode everything else goes to the web side untouched (the
 * bytes read are replayed): the built-in nginx look-alike or the
 * `decoyUpstream` web server. Outside stealth mode the same preamble is
 * understood on HTTP ALPNs and without ALPN, without checking the token
 * here (the service checks it, as it does over its own ALPN), and
 * everything else goes where it went before (HTTP, or SSH for `SSH-`
 * without ALPN). Internal to the
 * listeners (not exported by `@alknet/core/transport`).
 *
 * @module
 */

import { type ByteConn, closeQuietly, writeAll } from "./stream.ts";
import { ALPN_CALL, ALPN_SSH, ALPN_TCP } from "./alpn.ts";
import { decodeNativeTcpHeader, NativeTcpStatus } from "./native_header.ts";
import { parseDecoyHead } from "./decoy_http.ts";
import { serveDecoyConn } from "./decoy_server.ts";
import { relayToUpstream } from "./stealth_upstream.ts";
import { classifyPrefix } from "./peek.ts";
import type { ConnInfo } from "./endpoint_types.ts";
import type { PreauthGuard } from "./preauth.ts";
import type { EndpointOptions } from "./endpoint_types.ts";
import type { StealthFront } from "./stealth_front.ts";
import { PREAMBLE_CALL_HOST, PREAMBLE_SSH_HOST } from "./stealth_preamble.ts";
import { hostPort } from "./hostport.ts";
import { Deadline, TIMED_OUT } from "../util/timeout.ts";

/** What the gate needs of the listener (its `ListenContext`). */
export interface GateHost {
  /** The endpoint options. */
  readonly options: EndpointOptions;
  /** nginx's `client_header_timeout`. */
  readonly httpHeaderMs: number;
  /** The first-bytes deadline outside stealth mode. */
  readonly peekMs: number;
  /** The HTTP side, with the stealth state. */
  readonly http: { readonly stealth?: StealthFront };
  /** Hands a connection to its protocol handler. */
  dispatch(
    alpn: string,
    conn: ByteConn,
    info: ConnInfo,
    prefix?: Uint8Array,
    guard?: PreauthGuard,
  ): void;
  /** Serves HTTP on a connection (alknet's HTTP server). */
  serveHttp(conn: ByteConn, prefix: Uint8Array, info: ConnInfo, guard?: PreauthGuard): void;
  /** Logs `conn rejected`. */
  reject(info: ConnInfo, reason: string): void;
}

/** What the listener lends the gate for one connection. */
export interface FirstBytesConn {
  /** The decrypted byte stream. */
  conn: ByteConn;
  /** Where it came from (with the negotiated ALPN). */
  info: ConnInfo;
  /** The pre-auth guard of the connection. */
  guard?: PreauthGuard;
  /** Drops the connection without a TLS close_notify. */
  abort: () => void;
  /** The listener's bound address (redirects of the decoy). */
  local: Deno.NetAddr;
}

async function readFirst(conn: ByteConn, ms: number): Promise<Uint8Array | "timeout" | "eof"> {
  const buf = new Uint8Array(16 * 1024 + 64);
  const d = new Deadline(ms);
  try {
    const n = await d.race(conn.read(buf).catch(() => null));
    if (n === TIMED_OUT) return "timeout";
    if (n === null) return "eof";
    return buf.subarray(0, n);
  } finally {
    d.clear();
  }
}

/** The preamble at the start of `first`, when all of it is there. */
function preambleOf(first: Uint8Array) {
  if (first.length === 0 || first[0] !== 1) return null;
  try {
    return decodeNativeTcpHeader(first);
  } catch {
    return null;
  }
}

/** The bearer token of a complete first HTTP/1.x request head, if any. */
function bearerOf(first: Uint8Array): string | null {
  const r = parseDecoyHead(first);
  if (r.kind !== "request") return null;
  const m = /^Bearer +([^ ]+)$/i.exec(r.request.headers.get("authorization")?.[0] ?? "");
  return m ? m[1] : null;
}

async function tokenAccepted(ctx: GateHost, token: string, info: ConnInfo) {
  const accept = ctx.options.acceptToken;
  if (!accept) return false;
  try {
    if (await accept(token, info)) return true;
  } catch { /* refused */ }
  ctx.options.logger?.event("auth", {
    result: "reject",
    remote: hostPort(info.remoteAddress, info.remotePort),
    method: "token",
    transport: info.transport,
  });
  return false;
}

/**
 * Hands a connection whose preamble was accepted to its handler; false
 * when the node has no handler for what it asks (it then goes to the web
 * side, so a client can tell "no such service" from a refusal).
 */
async function dispatchPreamble(
  ctx: GateHost,
  c: FirstBytesConn,
  first: Uint8Array,
  host: string,
  used: number,
): Promise<boolean> {
  const h = ctx.options.handlers;
  const service = host === PREAMBLE_SSH_HOST
    ? ALPN_SSH
    : host === PREAMBLE_CALL_HOST
    ? (h.call ? ALPN_CALL : null)
    : (h.tcp ? ALPN_TCP : null);
  if (service === null) return false;
  if (service === ALPN_TCP) {
    // The native handler reads (and checks) the header itself.
    ctx.dispatch(ALPN_TCP, c.conn, c.info, first, c.guard);
    return true;
  }
  try {
    await writeAll(c.conn, new Uint8Array([NativeTcpStatus.OK]));
  } catch {
    closeQuietly(c.conn);
    return true;
  }
  ctx.dispatch(service, c.conn, c.info, first.subarray(used), c.guard);
  return true;
}

/**
 * Stealth mode: the first read decides between alknet (preamble or bearer
 * token) and the web side (the decoy, or the upstream web server).
 */
export async function stealthFirstBytes(ctx: GateHost, c: FirstBytesConn): Promise<void> {
  const start = Date.now();
  const first = await readFirst(c.conn, ctx.httpHeaderMs);
  if (first === "timeout") {
    // nginx closes a connection that never sent a byte with a close_notify
    // (only a request cut off mid-header is dropped without one).
    await c.conn.closeWrite?.().catch(() => {});
    return closeQuietly(c.conn);
  }
  if (first === "eof") return closeQuietly(c.conn);
  const pre = preambleOf(first);
  if (pre && await tokenAccepted(ctx, pre.header.token, c.info)) {
    if (await dispatchPreamble(ctx, c, first, pre.header.host, pre.used)) return;
  } else if (!pre) {
    const bearer = bearerOf(first);
    if (bearer !== null && await tokenAccepted(ctx, bearer, c.info)) {
      ctx.serveHttp(c.conn, first, c.info, c.guard);
      return;
    }
  }
  await webSide(ctx, c, first, start);
}

/** The web side of a stealth listener, for bytes that did not prove anything. */
async function webSide(
  ctx: GateHost,
  c: FirstBytesConn,
  first: Uint8Array,
  start: number,
): Promise<void> {
  c.guard?.handOver();
  const stealth = ctx.http.stealth!;
  if (stealth.upstream) {
    try {
      await relayToUpstream(c.conn, first, stealth.upstream, c.abort);
      return;
    } catch {
      stealth.upstreamDown(ctx.options.logger);
    }
  }
  await serveDecoyConn(c.conn, first, {
    site: stealth.site,
    context: {
      scheme: "https",
      port: c.local.port,
      localAddress: c.local.hostname,
    },
    headerTimeoutMs: ctx.httpHeaderMs,
    startedAt: start,
    abort: c.abort,
  });
}

/**
 * Outside stealth mode, on HTTP ALPNs and without ALPN: a preamble goes to
 * its service; otherwise HTTP ALPNs go to HTTP, and
 * without ALPN the first bytes are peeked as before (`SSH-` is SSH).
 */
export async function openFirstBytes(ctx: GateHost, c: FirstBytesConn): Promise<void> {
  const http = c.info.alpn !== undefined;
  const first = await readFirst(c.conn, http ? ctx.httpHeaderMs : ctx.peekMs);
  if (first === "timeout" || first === "eof") {
    ctx.reject(c.info, "no-data");
    return closeQuietly(c.conn);
  }
  // Outside stealth mode nothing is hidden: the service named checks the
  // token itself (SSH login, the call protocol's auth, the native header).
  const pre = preambleOf(first);
  if (pre && await dispatchPreamble(ctx, c, first, pre.header.host, pre.used)) return;
  if (http) return ctx.serveHttp(c.conn, first, c.info, c.guard);
  let prefix = first;
  // Without ALPN, read on to 8 bytes (or end, or the peek deadline) as the peek did.
  const d = new Deadline(ctx.peekMs);
  try {
    while (prefix.length < 8) {
      const more = new Uint8Array(1024);
      const n = await d.race(c.conn.read(more).catch(() => null));
      if (n === TIMED_OUT) {
        // A read is still pending: the connection cannot be handed on.
        ctx.reject(c.info, "no-data");
        return closeQuietly(c.conn);
      }
      if (n === null) break;
      const next = new Uint8Array(prefix.length + n);
      next.set(prefix);
      next.set(more.subarray(0, n), prefix.length);
      prefix = next;
    }
  } finally {
    d.clear();
  }
  if (classifyPrefix(prefix) === "ssh") ctx.dispatch(ALPN_SSH, c.conn, c.info, prefix, c.guard);
  else ctx.serveHttp(c.conn, prefix, c.info, c.guard);
}
