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

const CR = 13;
const LF = 10;
const SP = 32;

function isMethodChar(c: number): boolean {
  return (c >= 65 && c <= 90) || c === 95 || c === 45;
}

function isAlpha(c: number): boolean {
  const l = c | 0x20;
  return l >= 97 && l <= 122;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isCtl(c: number): boolean {
  return c <= 0x20 || c === 0x7f;
}

/** The end of a request line (`LF` index) or a verdict; parses as far as `end`. */
interface LineScan {
  /** Index of the `LF` ending the line, or -1 when the bytes ran out. */
  lf: number;
  error?: DecoyHeadError["status"];
  method?: string;
  uriStart?: number;
  uriEnd?: number;
  hostStart?: number;
  hostEnd?: number;
  version?: number;
}

type RlState =
  | "start"
  | "method"
  | "spacesBeforeUri"
  | "schema"
  | "schemaSlash"
  | "schemaSlashSlash"
  | "hostStart"
  | "host"
  | "ipLiteral"
  | "hostEnd"
  | "port"
  | "uri"
  | "http09"
  | "H"
  | "HT"
  | "HTT"
  | "HTTP"
  | "firstMajor"
  | "major"
  | "firstMinor"
  | "minor"
  | "spacesAfterDigit"
  | "almostDone";

const IP_LITERAL = /[0-9A-Za-z.:\-_~!$&'()*+,;=]/;

/** Runs the request-line state machine from `from` to `end` (nginx 1.22's rules). */
function scanRequestLine(b: Uint8Array, from: number, end: number): LineScan & { start: number } {
  let state: RlState = "start";
  let start = from;
  let methodEnd = 0;
  const out: LineScan & { start: number } = { lf: -1, start };
  let major = 0;
  let minor = 0;
  const fail = (status: DecoyHeadError["status"]) => {
    out.error = status;
    return out;
  };
  const uriEnded = (p: number) => {
    out.uriEnd = p;
  };
  for (let p = from; p < end; p++) {
    const c = b[p];
    switch (state) {
      case "start":
        if (c === CR || c === LF) continue;
        if (!isMethodChar(c)) return fail(400);
        start = out.start = p;
        state = "method";
        continue;
      case "method":
        if (c === SP) {
          methodEnd = p;
          out.method = String.fromCharCode(...b.subarray(start, methodEnd));
          state = "spacesBeforeUri";
        } else if (!isMethodChar(c)) return fail(400);
        continue;
      case "spacesBeforeUri":
        if (c === 0x2f) {
          out.uriStart = p;
          state = "uri";
        } else if (isAlpha(c)) state = "schema";
        else if (c !== SP) return fail(400);
        continue;
      case "schema":
        if (c === 0x3a) state = "schemaSlash";
        else if (!(isAlpha(c) || isDigit(c) || c === 0x2b || c === 0x2d || c === 0x2e)) {
          return fail(400);
        }
        continue;
      case "schemaSlash":
        if (c !== 0x2f) return fail(400);
        state = "schemaSlashSlash";
        continue;
      case "schemaSlashSlash":
        if (c !== 0x2f) return fail(400);
        state = "hostStart";
        continue;
      case "hostStart":
        out.hostStart = p;
        if (c === 0x5b) {
          state = "ipLiteral";
          continue;
        }
        state = "host";
      // falls through
      case "host":
        if (isAlpha(c) || isDigit(c) || c === 0x2e || c === 0x2d) continue;
        out.hostEnd = p;
        if (c === 0x3a) state = "port";
        else if (c === 0x2f || c === 0x3f) {
          out.uriStart = p;
          state = "uri";
        } else if (c === SP) {
          // "GET http://host HTTP/1.1": the path is "/".
          out.uriStart = -1;
          uriEnded(p);
          state = "http09";
        } else return fail(400);
        continue;
      case "ipLiteral":
        if (c === 0x5d) {
          out.hostEnd = p + 1;
          state = "hostEnd";
        } else if (!IP_LITERAL.test(String.fromCharCode(c))) return fail(400);
        continue;
      case "hostEnd":
        if (c === 0x3a) state = "port";
        else if (c === 0x2f || c === 0x3f) {
          out.uriStart = p;
          state = "uri";
        } else if (c === SP) {
          out.uriStart = -1;
          uriEnded(p);
          state = "http09";
        } else return fail(400);
        continue;
      case "port":
        if (isDigit(c) || c === 0x3a) continue;
        if (c === 0x2f || c === 0x3f) {
          out.uriStart = p;
          state = "uri";
        } else if (c === SP) {
          out.uriStart = -1;
          uriEnded(p);
          state = "http09";
        } else return fail(400);
        continue;
      case "uri":
        if (c === SP) {
          uriEnded(p);
          state = "http09";
        } else if (c === CR) {
          uriEnded(p);
          out.version = 9;
          state = "almostDone";
        } else if (c === LF) {
          uriEnded(p);
          out.version = 9;
          out.lf = p;
          return out;
        } else if (c === 0 || isCtl(c)) return fail(400);
        continue;
      case "http09":
        if (c === SP) continue;
        if (c === CR) {
          out.version = 9;
          state = "almostDone";
        } else if (c === LF) {
          out.version = 9;
          out.lf = p;
          return out;
        } else if (c === 0x48) state = "H";
        else return fail(400);
        continue;
      case "H":
        if (c !== 0x54) return fail(400);
        state = "HT";
        continue;
      case "HT":
        if (c !== 0x54) return fail(400);
        state = "HTT";
        continue;
      case "HTT":
        if (c !== 0x50) return fail(400);
        state = "HTTP";
        continue;
      case "HTTP":
        if (c !== 0x2f) return fail(400);
        state = "firstMajor";
        continue;
      case "firstMajor":
        if (c < 0x31 || c > 0x39) return fail(400);
        major = c - 48;
        if (major > 1) return fail(505);
        state = "major";
        continue;
      case "major":
        if (c === 0x2e) {
          state = "firstMinor";
          continue;
        }
        if (!isDigit(c)) return fail(400);
        if (major > 99) return fail(400);
        major = major * 10 + (c - 48);
        if (major > 1) return fail(505);
        continue;
      case "firstMinor":
        if (!isDigit(c)) return fail(400);
        minor = c - 48;
        state = "minor";
        continue;
      case "minor":
        if (c === CR) {
          out.version = major * 1000 + minor;
          state = "almostDone";
        } else if (c === LF) {
          out.version = major * 1000 + minor;
          out.lf = p;
          return out;
        } else if (c === SP) {
          out.version = major * 1000 + minor;
          state = "spacesAfterDigit";
        } else if (!isDigit(c)) return fail(400);
        else {
          if (minor > 99) return fail(400);
          minor = minor * 10 + (c - 48);
        }
        continue;
      case "spacesAfterDigit":
        if (c === SP) continue;
        if (c === CR) state = "almostDone";
        else if (c === LF) {
          out.lf = p;
          return out;
        } else return fail(400);
        continue;
      case "almostDone":
        if (c !== LF) return fail(400);
        out.lf = p;
        return out;
    }
  }
  return out;
}

/**
 * Decodes and normalises a request path as nginx does: `%XX` decoded (a bad
 * escape or `%00` is an error), slashes merged, `.` and `..` segments
 * resolved (climbing above the root is an error), `#` ends the path.
 * Returns `null` for a path nginx refuses with 400.
 *
 * @example
 * ```ts
 * import { normalizeDecoyPath } from "@alknet/core/transport";
 * console.log(normalizeDecoyPath("//a/./b/../%69ndex.html")); // "/a/index.html"
 * console.log(normalizeDecoyPath("/../x")); // null
 * ```
 */
export function normalizeDecoyPath(raw: string): string | null {
  const hash = raw.indexOf("#");
  const text = hash >= 0 ? raw.slice(0, hash) : raw;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x25) {
      bytes.push(c & 0xff);
      continue;
    }
    const hex = text.slice(i + 1, i + 3);
    if (!/^[0-9a-fA-F]{2}$/.test(hex)) return null;
    const v = parseInt(hex, 16);
    if (v === 0) return null;
    bytes.push(v);
    i += 2;
  }
  const segments: string[] = [];
  const parts = String.fromCharCode(...bytes).split("/");
  const trailing = parts.length > 1 && (parts.at(-1) === "" || parts.at(-1) === "." ||
    parts.at(-1) === "..");
  for (const seg of parts.slice(1)) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (segments.length === 0) return null;
      segments.pop();
      continue;
    }
    segments.push(seg);
  }
  const path = "/" + segments.join("/");
  return trailing && segments.length > 0 ? path + "/" : path;
}

/** A header line: name (lower-case, `undefined` when nginx ignores it) and value. */
interface HeaderScan {
  lf: number;
  error?: 400;
  end?: boolean;
  name?: string;
  value?: string;
}

function isNameChar(c: number): boolean {
  return c === 0x2d || isDigit(c) || isAlpha(c);
}

/** Scans one header line starting at `from` (nginx's rules, invalid names ignored). */
function scanHeaderLine(b: Uint8Array, from: number, end: number): HeaderScan {
  const c0 = from < end ? b[from] : -1;
  if (c0 === -1) return { lf: -1 };
  if (c0 === CR) {
    if (from + 1 >= end) return { lf: -1 };
    return b[from + 1] === LF ? { lf: from + 1, end: true } : { lf: -1, error: 400 };
  }
  if (c0 === LF) return { lf: from, end: true };
  if (c0 !== 0x5f && !isNameChar(c0) && (isCtl(c0) || c0 === 0x3a)) return { lf: -1, error: 400 };
  let invalid = false;
  let p = from;
  for (; p < end; p++) {
    const c = b[p];
    if (c === 0x3a) break;
    if (c === CR || c === LF) break;
    if (isNameChar(c)) continue;
    if (c === 0x5f) {
      invalid = true;
      continue;
    }
    if (isCtl(c)) return { lf: -1, error: 400 };
    invalid = true;
  }
  if (p >= end) return { lf: -1 };
  const name = String.fromCharCode(...b.subarray(from, p)).toLowerCase();
  let valueStart = p;
  let valueEnd = p;
  if (b[p] === 0x3a) {
    p++;
    while (p < end && b[p] === SP) p++;
    valueStart = p;
    valueEnd = p;
    for (; p < end; p++) {
      const c = b[p];
      if (c === 0) return { lf: -1, error: 400 };
      if (c === CR || c === LF) break;
      if (c !== SP) valueEnd = p + 1;
    }
    if (p >= end) return { lf: -1 };
  }
  let lf = p;
  if (b[p] === CR) {
    if (p + 1 >= end) return { lf: -1 };
    if (b[p + 1] !== LF) return { lf: -1, error: 400 };
    lf = p + 1;
  }
  const value = new TextDecoder("latin1").decode(b.subarray(valueStart, valueEnd));
  return { lf, name: invalid ? undefined : name, value };
}

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

/** nginx's Host check: the host part (lower-cased), or `null` for a host it refuses. */
function validHost(value: string): string | null {
  let dotPos = value.length;
  let hostLen = value.length;
  let state: "usual" | "literal" | "rest" = "usual";
  for (let i = 0; i < value.length; i++) {
    const ch = value.charCodeAt(i);
    if (ch === 0x2e) {
      if (dotPos === i - 1) return null;
      dotPos = i;
    } else if (ch === 0x3a) {
      if (state === "usual") {
        hostLen = i;
        state = "rest";
      }
    } else if (ch === 0x5b) {
      if (i === 0) state = "literal";
    } else if (ch === 0x5d) {
      if (state === "literal") {
        hostLen = i + 1;
        state = "rest";
      }
    } else if (ch === 0x2f || isCtl(ch)) return null;
  }
  if (dotPos === hostLen - 1) hostLen--;
  if (hostLen <= 0) return null;
  return value.slice(0, hostLen).toLowerCase();
}

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
