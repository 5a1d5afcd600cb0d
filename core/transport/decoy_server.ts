/**
 * The stealth decoy's HTTP/1.x connection loop: reads requests with
 * nginx's limits and timers (`client_header_timeout`, `keepalive_timeout`
 * 75 s, `keepalive_requests` 1000, `client_max_body_size` 1 MiB, discarding
 * request bodies with `lingering_timeout` 5 s / `lingering_time` 30 s),
 * answers them from a {@link DecoySite} with nginx's bytes, and closes the way
 * nginx does: after a timeout without a TLS close_notify (the caller's
 * `abort`), otherwise cleanly.
 *
 * @module
 */

import { type ByteConn, closeQuietly, writeAll } from "./stream.ts";
import { DECOY_HEAD_MAX, type DecoyRequest, parseDecoyHead } from "./decoy_http.ts";
import {
  type DecoyContext,
  type DecoyEntry,
  decoyError,
  type DecoyResponse,
  decoyStaticResponse,
  isMsie,
  serializeDecoyHead,
} from "./decoy_response.ts";
import { Deadline, TIMED_OUT } from "../util/timeout.ts";

/**
 * Where the decoy's files come from.
 *
 * @example
 * ```ts
 * import type { DecoySite } from "@alknet/core/transport";
 * const empty: DecoySite = { lookup: () => Promise.resolve(null) };
 * console.log(await empty.lookup("/")); // null
 * ```
 */
export interface DecoySite {
  /** What a normalised path names (`/` and `/dir/` name directories). */
  lookup(path: string): Promise<DecoyEntry>;
}

/**
 * Options of {@link serveDecoyConn}.
 *
 * @example
 * ```ts
 * import type { DecoyConnOptions } from "@alknet/core/transport";
 * const o: Partial<DecoyConnOptions> = { headerTimeoutMs: 60_000, plainOnTls: false };
 * console.log(o.headerTimeoutMs);
 * ```
 */
export interface DecoyConnOptions {
  /** The site. */
  site: DecoySite;
  /** Scheme, port and local address (redirects). */
  context: DecoyContext;
  /** nginx's `client_header_timeout` (default 60 000 ms). */
  headerTimeoutMs?: number;
  /** When the wait for the first request began (default: now); its header deadline counts from here. */
  startedAt?: number;
  /** nginx's `keepalive_timeout` (default 75 000 ms). */
  keepaliveTimeoutMs?: number;
  /** nginx's `lingering_timeout` (default 5 000 ms). */
  lingeringTimeoutMs?: number;
  /** nginx's `lingering_time` (default 30 000 ms). */
  lingeringTimeMs?: number;
  /** Plain HTTP reached the TLS port: every well-formed request gets "400 The plain HTTP request was sent to HTTPS port". */
  plainOnTls?: boolean;
  /** Drops the connection without a TLS close_notify (what nginx does after a timeout). */
  abort: () => void;
}

const MAX_BODY = 1 << 20;
const KEEPALIVE_REQUESTS = 1000;

/** A growing input buffer. */
class Input {
  buf = new Uint8Array(16 * 1024);
  len = 0;

  constructor(first: Uint8Array) {
    this.push(first);
  }

  push(bytes: Uint8Array): void {
    if (this.len + bytes.length > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + bytes.length));
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
  }

  consume(n: number): void {
    this.buf.copyWithin(0, n, this.len);
    this.len -= n;
  }
}

type ReadResult = "data" | "eof" | "timeout";

/**
 * Serves one connection as nginx would serve a static site. `first` holds
 * bytes already read from it. Resolves when the connection is closed; never
 * rejects.
 *
 * @example
 * ```ts
 * import { serveDecoyConn } from "@alknet/core/transport";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const client = await Deno.connect({ hostname: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port });
 * const server = await listener.accept();
 * const done = serveDecoyConn(server, new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"), {
 *   site: { lookup: () => Promise.resolve(null) },
 *   context: { scheme: "http", port: 80, localAddress: "127.0.0.1" },
 *   abort: () => server.close(),
 * });
 * const reply = new Uint8Array(512);
 * const n = await client.read(reply);
 * console.log(new TextDecoder().decode(reply.subarray(0, n ?? 0)).split("\r\n")[0]); // HTTP/1.1 404 Not Found
 * client.close();
 * await done;
 * listener.close();
 * ```
 */
export async function serveDecoyConn(
  conn: ByteConn,
  first: Uint8Array,
  options: DecoyConnOptions,
): Promise<void> {
  try {
    await serveLoop(conn, first, options);
  } catch {
    options.abort();
  }
}

async function serveLoop(
  conn: ByteConn,
  first: Uint8Array,
  o: DecoyConnOptions,
): Promise<void> {
  const headerMs = o.headerTimeoutMs ?? 60_000;
  const keepaliveMs = o.keepaliveTimeoutMs ?? 75_000;
  const lingerMs = o.lingeringTimeoutMs ?? 5_000;
  const lingerTotalMs = o.lingeringTimeMs ?? 30_000;
  const input = new Input(first);
  const chunk = new Uint8Array(16 * 1024);
  // Once the client has ended its side, nginx never sends a close_notify.
  let peerEnded = false;
  const readInto = async (deadline: Deadline): Promise<ReadResult> => {
    const n = await deadline.race(conn.read(chunk).catch(() => null));
    if (n === TIMED_OUT) return "timeout";
    if (n === null) {
      peerEnded = true;
      return "eof";
    }
    input.push(chunk.subarray(0, n));
    return "data";
  };
  // Closing: FIN (and close_notify) at once, then read and drop what the
  // client still sends until it stops (nginx's lingering close), so unread
  // bytes never turn the close into a reset.
  const closeClean = async () => {
    if (peerEnded) return o.abort();
    await conn.closeWrite?.().catch(() => {});
    const until = Date.now() + lingerTotalMs;
    for (;;) {
      input.len = 0;
      const d = new Deadline(Math.max(0, Math.min(lingerMs, until - Date.now())));
      const r = await readInto(d);
      d.clear();
      if (r !== "data") break;
    }
    closeQuietly(conn);
  };
  let requests = 0;
  let headerStart = o.startedAt ?? Date.now();
  for (;;) {
    if (requests > 0 && input.len === 0) {
      const idle = new Deadline(keepaliveMs);
      const r = await readInto(idle);
      idle.clear();
      if (r === "eof") return o.abort();
      if (r !== "data") return await closeClean();
      headerStart = Date.now();
    }
    const deadline = new Deadline(Math.max(0, headerStart + headerMs - Date.now()));
    let head = parseDecoyHead(input.buf, input.len);
    try {
      while (head.kind === "more") {
        const r = await readInto(deadline);
        if (r === "timeout") return o.abort();
        if (r === "eof") return o.abort();
        head = parseDecoyHead(input.buf, Math.min(input.len, DECOY_HEAD_MAX + 1));
      }
    } finally {
      deadline.clear();
    }
    if (head.kind === "error") {
      const res = decoyError(head.status);
      if (head.http09) await writeAll(conn, res.body);
      else await writeAll(conn, message(res, false, false));
      return await closeClean();
    }
    requests++;
    const req = head.request;
    input.consume(head.used);
    let res: DecoyResponse;
    if (o.plainOnTls) res = decoyError(497, isMsie(req));
    else if (req.contentLength > MAX_BODY) res = decoyError(413, isMsie(req));
    else res = decoyStaticResponse(req, await lookup(o.site, req.path), o.context);
    const http09 = req.version === 9;
    const keepAlive = !http09 && !res.close && requests < KEEPALIVE_REQUESTS && wantsKeepAlive(req);
    if (http09) await writeAll(conn, res.body);
    else await writeAll(conn, message(res, keepAlive, req.method === "HEAD"));
    if (http09 || res.status === 497) return await closeClean();
    const bodyLeft = req.chunked || req.contentLength > 0;
    if (bodyLeft) {
      const discarded = await discardBody(req, input, readInto, lingerMs, lingerTotalMs);
      if (discarded !== "done") return o.abort();
    }
    if (!keepAlive || res.closeAfter) return await closeClean();
    headerStart = Date.now();
  }
}

/** Builds head and body (no body for HEAD) into one buffer: one write per response. */
function message(res: DecoyResponse, keepAlive: boolean, headOnly: boolean): Uint8Array {
  const head = new TextEncoder().encode(serializeDecoyHead(res, keepAlive, new Date()));
  if (headOnly || res.body.length === 0) return head;
  const out = new Uint8Array(head.length + res.body.length);
  out.set(head);
  out.set(res.body, head.length);
  return out;
}

function wantsKeepAlive(req: DecoyRequest): boolean {
  if (req.connection === "close") return false;
  if (req.connection === "keep-alive") return true;
  return req.version > 1000;
}

async function lookup(site: DecoySite, path: string): Promise<DecoyEntry> {
  try {
    return await site.lookup(path);
  } catch {
    return null;
  }
}

/**
 * Reads and drops the request body (a declared length, or chunked), with
 * nginx's lingering timers; `done`, or what cut it short.
 */
async function discardBody(
  req: DecoyRequest,
  input: Input,
  readInto: (d: Deadline) => Promise<ReadResult>,
  idleMs: number,
  totalMs: number,
): Promise<"done" | "timeout" | "eof" | "bad"> {
  const until = Date.now() + totalMs;
  const more = async (): Promise<ReadResult> => {
    const d = new Deadline(Math.max(0, Math.min(idleMs, until - Date.now())));
    try {
      return await readInto(d);
    } finally {
      d.clear();
    }
  };
  if (!req.chunked) {
    let left = req.contentLength;
    for (;;) {
      const take = Math.min(left, input.len);
      input.consume(take);
      left -= take;
      if (left === 0) return "done";
      const r = await more();
      if (r !== "data") return r;
    }
  }
  // Chunked: size line, data, CRLF ... until the zero chunk and its trailer.
  for (;;) {
    const nl = input.buf.subarray(0, input.len).indexOf(10);
    if (nl < 0) {
      if (input.len > 4096) return "bad";
      const r = await more();
      if (r !== "data") return r;
      continue;
    }
    const line = new TextDecoder().decode(input.buf.subarray(0, nl)).replace(/\r$/, "");
    const size = /^[0-9a-fA-F]+/.exec(line);
    if (!size || size[0].length > 15) return "bad";
    let left = parseInt(size[0], 16);
    input.consume(nl + 1);
    if (left === 0) {
      // Trailer lines until an empty one.
      for (;;) {
        const end = input.buf.subarray(0, input.len).indexOf(10);
        if (end < 0) {
          const r = await more();
          if (r !== "data") return r;
          continue;
        }
        const empty = end === 0 || (end === 1 && input.buf[0] === 13);
        input.consume(end + 1);
        if (empty) return "done";
      }
    }
    left += 2;
    while (left > 0) {
      const take = Math.min(left, input.len);
      input.consume(take);
      left -= take;
      if (left === 0) break;
      const r = await more();
      if (r !== "data") return r;
    }
  }
}
