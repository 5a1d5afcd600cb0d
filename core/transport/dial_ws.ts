/**
 * The `ws://` and `wss://` client dialer (`npm:ws`, TCP_NODELAY, binary
 * messages as a byte stream), with the same TLS trust as `tls://` and an
 * optional upstream proxy.
 *
 * @module
 */

import tls from "node:tls";
import type { Duplex } from "node:stream";
// @ts-types="@types/ws"
import WebSocket from "ws";
import { type ByteConn, connToDuplex } from "./stream.ts";
import { wsClientConn, type WsClientSocket } from "./conn.ts";
import { DialError } from "./tcp.ts";
import { derFingerprint, normalizeFingerprint } from "./certs.ts";
import { PinMismatchError, TransportUrlError, WebSocketUpgradeError } from "./errors.ts";
import { withTimeout } from "../util/timeout.ts";
import { dialViaProxy } from "./proxy.ts";
import { parseTransportUrl, type TransportUrl, WS_SSH_PATH } from "./url.ts";
import { ALPN_HTTP1 } from "./alpn.ts";
import { hostPort } from "./hostport.ts";
import { DEFAULT_DIAL_TIMEOUT_MS, dialDeadline, type DialOptions } from "./dial_options.ts";
import { caList, fetchServerCertificate, isIpLiteral, verificationName } from "./tls_trust.ts";

/**
 * Opens a WebSocket (`npm:ws`, TCP_NODELAY) to `url` (`ws://` or `wss://`,
 * path default `/alknet/ssh`) and returns it as a byte stream of binary
 * messages.
 *
 * @throws {TransportUrlError} for a URL that is not ws:// or wss://, or an HTTP answer instead of an upgrade
 * @throws {DialError} when the node cannot be reached in time
 * @example
 * ```ts
 * import { dialWebSocket } from "@alknet/core/transport";
 * const conn = await dialWebSocket("ws://127.0.0.1:1/alknet/ssh", { timeoutMs: 500 }).catch(() => null);
 * conn?.close();
 * ```
 */
export function dialWebSocket(
  url: string | TransportUrl,
  options: DialOptions = {},
): Promise<ByteConn> {
  // Listen for messages from the start: the server's first message can arrive
  // in the same read as the upgrade response and is emitted right after
  // "open", before an awaiting caller would attach a listener.
  return openWebSocket(url, options, wsClientConn);
}

/**
 * Opens a WebSocket like {@link dialWebSocket} (same TLS trust, proxy and
 * deadline) but hands the `npm:ws` socket itself to `wrap`, right after it
 * is made and before it opens, so the caller sees every message (one call
 * envelope per message, say). Resolves to what `wrap` returned once the
 * socket is open.
 *
 * @throws {WebSocketUpgradeError} when the server answers HTTP instead of upgrading (with its reason)
 * @throws {DialError} when the node cannot be reached in time
 * @example
 * ```ts
 * import { openWebSocket } from "@alknet/core/transport";
 * const messages: unknown[] = [];
 * const ws = await openWebSocket("ws://127.0.0.1:1/alknet/call", { timeoutMs: 500 }, (socket) => {
 *   socket.on("message", (data: unknown) => messages.push(data));
 *   return socket;
 * }).catch((e) => e);
 * console.log(ws instanceof Error ? ws.name : "open"); // "DialError"
 * ```
 */
export async function openWebSocket<T>(
  url: string | TransportUrl,
  options: DialOptions,
  wrap: (socket: WsClientSocket) => T,
): Promise<T> {
  const u = typeof url === "string" ? parseTransportUrl(url) : url;
  if (u.scheme !== "ws" && u.scheme !== "wss") {
    throw new TransportUrlError(String(url), "not a ws:// or wss:// URL");
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS;
  const path = options.wsPath ?? u.path ?? WS_SSH_PATH;
  const target = `${u.scheme}://${hostPort(u.host, u.port)}${path}`;
  const secure = u.scheme === "wss";
  const wsOptions: WebSocket.ClientOptions = {
    perMessageDeflate: false,
    headers: options.headers,
    handshakeTimeout: timeoutMs,
    maxPayload: 64 * 1024 * 1024,
  };
  let preSocket: Duplex | undefined;
  const tlsOptions: tls.ConnectionOptions = {};
  if (secure) {
    let ca = await caList(options);
    let servername = options.serverName ?? u.host;
    let rejectUnauthorized = !options.insecure;
    if (options.fingerprint) {
      const pin = normalizeFingerprint(options.fingerprint);
      const cert = await fetchServerCertificate(u.host, u.port, { ...options, alpn: [ALPN_HTTP1] });
      ca = [cert.pem];
      servername = verificationName(servername, cert.names);
      rejectUnauthorized = true;
      // The pinned certificate is the only CA; the leaf is also compared exactly.
      tlsOptions.checkServerIdentity = (_h, c) => {
        const got = derFingerprint(new Uint8Array(c.raw));
        return got === pin ? undefined : new PinMismatchError(pin, got);
      };
    }
    if (ca) tlsOptions.ca = ca;
    tlsOptions.rejectUnauthorized = rejectUnauthorized;
    if (!isIpLiteral(servername)) tlsOptions.servername = servername;
    tlsOptions.ALPNProtocols = [ALPN_HTTP1];
    Object.assign(wsOptions, tlsOptions);
  }
  if (options.proxy) {
    const tcp = await dialViaProxy(options.proxy, u.host, u.port, timeoutMs);
    const plain = connToDuplex(tcp) as unknown as Duplex;
    preSocket = secure ? tls.connect({ ...tlsOptions, socket: plain }) : plain;
    const s = preSocket;
    (wsOptions as { createConnection?: () => Duplex }).createConnection = () => s;
  }
  const ws = new WebSocket(target, wsOptions);
  const wrapped = wrap(ws as unknown as WsClientSocket);
  try {
    await dialDeadline(
      new Promise<void>((resolve, reject) => {
        ws.once("open", () => resolve());
        ws.once("error", (e: Error) => reject(e));
        ws.once(
          "unexpected-response",
          (_req: unknown, res: UpgradeResponse) =>
            void upgradeRefusal(target, res).then(reject, reject),
        );
        ws.once("close", () => reject(new DialError("unreachable")));
      }),
      timeoutMs,
      "WebSocket handshake",
    );
  } catch (e) {
    ws.terminate();
    preSocket?.destroy();
    if (
      e instanceof DialError || e instanceof TransportUrlError ||
      e instanceof PinMismatchError || e instanceof WebSocketUpgradeError
    ) {
      throw e;
    }
    const code = (e as { code?: string }).code;
    if (code === "ECONNREFUSED") throw new DialError("refused");
    if (code === "ENOTFOUND" || code === "EHOSTUNREACH" || code === "ENETUNREACH") {
      throw new DialError("unreachable");
    }
    throw e;
  }
  return wrapped;
}

/** The parts of the HTTP answer `npm:ws` hands to "unexpected-response". */
interface UpgradeResponse {
  statusCode?: number;
  headers: Record<string, string | string[] | undefined>;
  on(event: "data", fn: (chunk: Uint8Array) => void): unknown;
  once(event: "end" | "error" | "close", fn: () => void): unknown;
  destroy(): void;
}

/** Reads a short text body of a refused upgrade (the reason), bounded in size and time. */
async function upgradeRefusal(
  target: string,
  res: UpgradeResponse,
): Promise<WebSocketUpgradeError> {
  const status = res.statusCode ?? 0;
  const type = String(res.headers["content-type"] ?? "");
  let reason = "";
  if (type.startsWith("text/plain")) {
    const chunks: Uint8Array[] = [];
    let size = 0;
    await withTimeout(
      new Promise<void>((resolve) => {
        res.on("data", (c) => {
          if (size < 1024) chunks.push(c);
          size += c.length;
        });
        res.once("end", resolve);
        res.once("error", resolve);
        res.once("close", resolve);
      }),
      2_000,
    );
    const body = new TextDecoder().decode(concatBytes(chunks)).slice(0, 1024);
    // "401 Unauthorized: why" -> "why"; control characters never reach a log line.
    // deno-lint-ignore no-control-regex
    reason = body.replace(/^\d{3}[^:\n]*:\s*/, "").replace(/[\x00-\x1f\x7f]+/g, " ").trim();
  }
  res.destroy();
  return new WebSocketUpgradeError(target, status, reason);
}

function concatBytes(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
