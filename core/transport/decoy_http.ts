/**
 * The request side of the stealth decoy's HTTP/1.x server: a parser that
 * reads request heads the way nginx 1.22 does, byte for byte where a prober
 * can tell (which methods, URIs, versions, header lines and limits are
 * errors, and when the error is known: a bad byte in the request line is
 * answered at once, without waiting for the rest). The rules written down
 * in `docs/decisions/stealth.md` come from nginx 1.22.1's behaviour,
 * observed side by side (no nginx code is reproduced here).
 *
 * @module
 */

import { normalizeDecoyPath } from "./decoy_path.ts";
import { scanRequestLine } from "./decoy_request_line.ts";
import { scanHeaderLine, validHost } from "./decoy_header_line.ts";

/**
 * Longest request line or header line, CRLF included (nginx's
 * `large_client_header_buffers 4 8k`).
 *
 * @example
 * ```ts
 * import { DECOY_LINE_MAX } from "@alknet/core/transport";
 * console.log(DECOY_LINE_MAX); // 8192
 * ```
 */
export const DECOY_LINE_MAX = 8192;

/**
 * Longest request head (four 8 KiB buffers).
 *
 * @example
 * ```ts
 * import { DECOY_HEAD_MAX } from "@alknet/core/transport";
 * console.log(DECOY_HEAD_MAX); // 32768
 * ```
 */
export const DECOY_HEAD_MAX = 4 * 8192;

/**
 * Why a request head is refused, as nginx answers it: `400`, `414`
 * (request line too long), `494` (header too large: "400 Request Header Or
 * Cookie Too Large"), `405` (TRACE, CONNECT), `501` (unknown
 * Transfer-Encoding), `505` (HTTP/2 and up as text).
 *
 * @example
 * ```ts
 * import type { DecoyHeadError } from "@alknet/core/transport";
 * const e: DecoyHeadError = { kind: "error", status: 414, http09: false };
 * console.log(e.status);
 * ```
 */
export interface DecoyHeadError {
  /** Discriminant. */
  kind: "error";
  /** The status to answer with (494 is sent as 400 with its own page). */
  status: 400 | 405 | 414 | 494 | 501 | 505;
  /** The request was HTTP/0.9 (the answer is the page alone, no status line). */
  http09: boolean;
}

/**
 * A parsed request head.
 *
 * @example
 * ```ts
 * import { parseDecoyHead } from "@alknet/core/transport";
 * const r = parseDecoyHead(new TextEncoder().encode("GET /a/../b?x HTTP/1.1\r\nHost: h\r\n\r\n"));
 * if (r.kind === "request") console.log(r.request.path, r.request.args); // "/b" "x"
 * ```
 */
export interface DecoyRequest {
  /** The method as sent (`A`-`Z`, `_`, `-`). */
  method: string;
  /** `major * 1000 + minor`; 9 for HTTP/0.9. */
  version: number;
  /** The decoded, normalised path (`%XX` decoded, `//` merged, `.` and `..` resolved). */
  path: string;
  /** The query string (after the first `?`), undecoded; `""` when none. */
  args: string;
  /** The host of an absolute request URI, lower-cased, if any. */
  uriHost?: string;
  /** Header values by lower-case name, in arrival order (invalid names dropped, as nginx does). */
  headers: Map<string, string[]>;
  /** The request body's declared length (`-1`: none), when not chunked. */
  contentLength: number;
  /** `Transfer-Encoding: chunked`. */
  chunked: boolean;
  /** From `Connection`: `close`, `keep-alive`, or `undefined`. */
  connection?: "close" | "keep-alive";
}

/**
 * The result of {@link parseDecoyHead}: more bytes needed, an error, or a
 * request and the number of bytes its head used.
 *
 * @example
 * ```ts
 * import { type DecoyHeadResult, parseDecoyHead } from "@alknet/core/transport";
 * const r: DecoyHeadResult = parseDecoyHead(new TextEncoder().encode("GET / HT"));
 * console.log(r.kind); // "more"
 * ```
 */
export type DecoyHeadResult =
  | { kind: "more" }
  | DecoyHeadError
  | { kind: "request"; request: DecoyRequest; used: number };

export { normalizeDecoyPath } from "./decoy_path.ts";

const UNIQUE_HEADERS = new Set([
  "content-length",
  "content-range",
  "if-modified-since",
  "if-unmodified-since",
  "if-range",
  "transfer-encoding",
  "expect",
  "authorization",
]);

/**
 * Parses the request head at the start of `buf` (bytes `0..end`), as nginx
 * 1.22 would: `more` while the head is incomplete and nothing is wrong yet,
 * an error as soon as nginx would answer one, or the request.
 *
 * @example
 * ```ts
 * import { parseDecoyHead } from "@alknet/core/transport";
 * const enc = new TextEncoder();
 * console.log(parseDecoyHead(enc.encode("GARBAGE\r\n\r\n")).kind); // "error"
 * const r = parseDecoyHead(enc.encode("GET / HTTP/1.0\r\n\r\n"));
 * console.log(r.kind === "request" && r.request.version); // 1000
 * ```
 */
export function parseDecoyHead(buf: Uint8Array, end: number = buf.length): DecoyHeadResult {
  const line = scanRequestLine(buf, 0, end);
  if (line.error) return { kind: "error", status: line.error, http09: false };
  if (line.lf < 0) {
    return end - line.start >= DECOY_LINE_MAX ? err(414, false) : { kind: "more" };
  }
  if (line.lf + 1 - line.start > DECOY_LINE_MAX) return err(414, false);
  const method = line.method!;
  const version = line.version!;
  const http09 = version === 9;
  if (http09 && method !== "GET") return err(400, true);
  let rawUri = line.uriStart === -1 || line.uriStart === undefined
    ? "/"
    : String.fromCharCode(...buf.subarray(line.uriStart, line.uriEnd));
  if (rawUri.startsWith("?")) rawUri = "/" + rawUri;
  const q = rawUri.search(/[?#]/);
  const args = q >= 0 && rawUri[q] === "?" ? rawUri.slice(q + 1).replace(/#.*$/, "") : "";
  const path = normalizeDecoyPath(q >= 0 && rawUri[q] === "?" ? rawUri.slice(0, q) : rawUri);
  if (path === null) return err(400, http09);
  let uriHost: string | undefined;
  if (line.hostStart !== undefined) {
    const h = validHost(String.fromCharCode(...buf.subarray(line.hostStart, line.hostEnd)));
    if (h === null) return err(400, http09);
    uriHost = h;
  }
  const request: DecoyRequest = {
    method,
    version,
    path,
    args,
    uriHost,
    headers: new Map(),
    contentLength: -1,
    chunked: false,
  };
  if (http09) return { kind: "request", request, used: line.lf + 1 };
  let p = line.lf + 1;
  for (;;) {
    const h = scanHeaderLine(buf, p, end);
    if (h.error) return err(400, false);
    if (h.lf < 0) {
      if (end - p >= DECOY_LINE_MAX || end >= DECOY_HEAD_MAX) return err(494, false);
      return { kind: "more" };
    }
    if (h.lf + 1 - p > DECOY_LINE_MAX || h.lf + 1 > DECOY_HEAD_MAX) return err(494, false);
    p = h.lf + 1;
    if (h.end) break;
    if (h.name === undefined) continue;
    const list = request.headers.get(h.name);
    if (list && (UNIQUE_HEADERS.has(h.name) || h.name === "host")) return err(400, false);
    if (h.name === "host" && validHost(h.value!) === null) return err(400, false);
    if (list) list.push(h.value!);
    else request.headers.set(h.name, [h.value!]);
  }
  return finishHead(request, p);
}

function err(status: DecoyHeadError["status"], http09: boolean): DecoyHeadError {
  return { kind: "error", status, http09 };
}

/** The checks nginx makes once the whole head is in. */
function finishHead(request: DecoyRequest, used: number): DecoyHeadResult {
  const h = (name: string) => request.headers.get(name)?.[0];
  if (!request.headers.has("host") && request.version > 1000) return err(400, false);
  const conn = h("connection")?.toLowerCase();
  if (conn?.includes("close")) request.connection = "close";
  else if (conn?.includes("keep-alive")) request.connection = "keep-alive";
  const cl = h("content-length");
  if (cl !== undefined) {
    if (!/^[0-9]+$/.test(cl) || cl.length > 18) return err(400, false);
    request.contentLength = Number(cl);
  }
  const te = h("transfer-encoding");
  if (te !== undefined) {
    if (request.version < 1001) return err(400, false);
    if (te.toLowerCase() !== "chunked") return err(501, false);
    if (cl !== undefined) return err(400, false);
    request.chunked = true;
  }
  if (request.method === "TRACE" || request.method === "CONNECT") return err(405, false);
  return { kind: "request", request, used };
}
