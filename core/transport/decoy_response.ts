/**
 * The response side of the stealth decoy's HTTP/1.x server: what nginx 1.22
 * (`server_tokens off`, no `charset`) answers for a static site, written out
 * byte for byte: status lines and reason phrases, header names, case and
 * order, its HTML error pages (with the MSIE padding), conditional requests
 * (304, 412), byte ranges (206 single and multipart, 416), directory
 * redirects (301) and forbidden directory listings (403).
 *
 * @module
 */

import type { DecoyRequest } from "./decoy_http.ts";

/**
 * A file the decoy serves.
 *
 * @example
 * ```ts
 * import type { DecoyFile } from "@alknet/core/transport";
 * const f: DecoyFile = { body: new TextEncoder().encode("hi\n"), type: "text/plain", mtime: new Date(0) };
 * console.log(f.type);
 * ```
 */
export interface DecoyFile {
  /** The content. */
  body: Uint8Array;
  /** `Content-Type`. */
  type: string;
  /** Modification time (whole seconds are sent). */
  mtime: Date;
}

/**
 * What a path names on the decoy site: a file, a directory (with or without
 * an index file), or nothing.
 *
 * @example
 * ```ts
 * import type { DecoyEntry } from "@alknet/core/transport";
 * const e: DecoyEntry = { kind: "dir" };
 * console.log(e.kind);
 * ```
 */
export type DecoyEntry = { kind: "file"; file: DecoyFile } | { kind: "dir" } | null;

/**
 * A response ready to be written: the status and nginx's header fields in
 * the order nginx writes them (`Server`, `Date` and `Connection` are added
 * when serialising).
 *
 * @example
 * ```ts
 * import type { DecoyResponse } from "@alknet/core/transport";
 * const r: DecoyResponse = { status: 404, contentType: "text/html", body: new Uint8Array(0), extra: [] };
 * console.log(r.status);
 * ```
 */
export interface DecoyResponse {
  /** Status code (494 and 497 are written as 400). */
  status: number;
  /** `Content-Type`, when there is one. */
  contentType?: string;
  /** `Last-Modified`, when there is one. */
  lastModified?: Date;
  /** `Location`, for redirects. */
  location?: string;
  /** `ETag`, `Accept-Ranges`, `Content-Range`, in that order when present. */
  extra: [string, string][];
  /** The body (its length is `Content-Length`; omitted on the wire for HEAD). */
  body: Uint8Array;
  /** `Content-Length` is not sent (304). */
  noLength?: boolean;
  /** This answer ends the connection (nginx clears keep-alive for it). */
  close?: boolean;
  /** The head says keep-alive, yet nginx closes the connection after it (412). */
  closeAfter?: boolean;
}

const REASONS: Record<number, string> = {
  200: "OK",
  206: "Partial Content",
  301: "Moved Permanently",
  304: "Not Modified",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Not Allowed",
  412: "Precondition Failed",
  413: "Request Entity Too Large",
  414: "Request-URI Too Large",
  416: "Requested Range Not Satisfiable",
  500: "Internal Server Error",
  501: "Not Implemented",
  505: "HTTP Version Not Supported",
};

/** Statuses after which nginx closes the connection whatever the client asked. */
const CLOSING = new Set([400, 413, 414, 494, 497, 500, 501]);

const enc = new TextEncoder();

const MSIE_PADDING = "<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n"
  .repeat(6);

/**
 * nginx's HTML error page for a status (`494`: header too large, `497`:
 * plain HTTP on the TLS port), with the MSIE padding when `msie` is set.
 *
 * @example
 * ```ts
 * import { decoyErrorPage } from "@alknet/core/transport";
 * console.log(decoyErrorPage(404).length); // 146
 * ```
 */
export function decoyErrorPage(status: number, msie = false): Uint8Array {
  const tail = "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
  let page: string;
  if (status === 494 || status === 497) {
    const what = status === 494
      ? "Request Header Or Cookie Too Large"
      : "The plain HTTP request was sent to HTTPS port";
    page = `<html>\r\n<head><title>400 ${what}</title></head>\r\n<body>\r\n` +
      `<center><h1>400 Bad Request</h1></center>\r\n<center>${what}</center>\r\n` + tail;
  } else {
    const line = `${status} ${REASONS[status] ?? ""}`;
    page = `<html>\r\n<head><title>${line}</title></head>\r\n<body>\r\n` +
      `<center><h1>${line}</h1></center>\r\n` + tail;
  }
  return enc.encode(msie && status >= 400 ? page + MSIE_PADDING : page);
}

/**
 * The error response nginx sends for `status` (page, `text/html`, closing
 * for the statuses nginx closes on).
 *
 * @example
 * ```ts
 * import { decoyError } from "@alknet/core/transport";
 * console.log(decoyError(414).close); // true
 * ```
 */
export function decoyError(status: number, msie = false): DecoyResponse {
  return {
    status,
    contentType: "text/html",
    extra: [],
    body: decoyErrorPage(status, msie),
    close: CLOSING.has(status),
  };
}

/**
 * Writes a response head: status line (always `HTTP/1.1`), then `Server`,
 * `Date`, `Content-Type`, `Content-Length`, `Last-Modified`, `Location`,
 * `Connection`, and the extra fields, as nginx orders them.
 *
 * @example
 * ```ts
 * import { decoyError, serializeDecoyHead } from "@alknet/core/transport";
 * const head = serializeDecoyHead(decoyError(404), true, new Date(0));
 * console.log(head.split("\r\n")[0]); // "HTTP/1.1 404 Not Found"
 * ```
 */
export function serializeDecoyHead(r: DecoyResponse, keepAlive: boolean, now: Date): string {
  const code = r.status === 494 || r.status === 497 ? 400 : r.status;
  let head = `HTTP/1.1 ${code} ${
    REASONS[code] ?? ""
  }\r\nServer: nginx\r\nDate: ${now.toUTCString()}\r\n`;
  if (r.contentType) head += `Content-Type: ${r.contentType}\r\n`;
  if (!r.noLength) head += `Content-Length: ${r.body.length}\r\n`;
  if (r.lastModified) head += `Last-Modified: ${r.lastModified.toUTCString()}\r\n`;
  if (r.location) head += `Location: ${r.location}\r\n`;
  head += keepAlive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  for (const [k, v] of r.extra) head += `${k}: ${v}\r\n`;
  return head + "\r\n";
}

/**
 * `"<hex mtime>-<hex size>"`, as nginx builds ETags.
 *
 * @example
 * ```ts
 * import { decoyEtag } from "@alknet/core/transport";
 * console.log(decoyEtag({ body: new Uint8Array(12), type: "text/html", mtime: new Date(1_000_000) })); // "3e8-c"
 * ```
 */
export function decoyEtag(f: DecoyFile): string {
  return `"${Math.floor(f.mtime.getTime() / 1000).toString(16)}-${f.body.length.toString(16)}"`;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/**
 * Parses an HTTP date in any of the three forms nginx reads (RFC 1123,
 * RFC 850, asctime) to Unix seconds, or -1.
 *
 * @example
 * ```ts
 * import { parseDecoyDate } from "@alknet/core/transport";
 * console.log(parseDecoyDate("Thu, 01 Jan 1970 00:01:00 GMT")); // 60
 * console.log(parseDecoyDate("nonsense")); // -1
 * ```
 */
export function parseDecoyDate(text: string): number {
  const m =
    /^[A-Za-z]+, (\d\d)[ -]([A-Za-z]{3})[ -](\d\d|\d{4}) (\d\d):(\d\d):(\d\d) GMT/.exec(text) ??
      null;
  let day: number, mon: number, year: number, hh: number, mm: number, ss: number;
  if (m) {
    day = Number(m[1]);
    mon = MONTHS.indexOf(m[2].toLowerCase());
    year = Number(m[3]);
    if (m[3].length === 2) year += year < 70 ? 2000 : 1900;
    [hh, mm, ss] = [Number(m[4]), Number(m[5]), Number(m[6])];
  } else {
    const a = /^[A-Za-z]{3} ([A-Za-z]{3}) ([ \d]\d) (\d\d):(\d\d):(\d\d) (\d{4})/.exec(text);
    if (!a) return -1;
    mon = MONTHS.indexOf(a[1].toLowerCase());
    day = Number(a[2].trim());
    [hh, mm, ss, year] = [Number(a[3]), Number(a[4]), Number(a[5]), Number(a[6])];
  }
  if (mon < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 59 || year < 1970) return -1;
  return Math.floor(Date.UTC(year, mon, day, hh, mm, ss) / 1000);
}

/** nginx's If-Match / If-None-Match test (`weak` for If-None-Match). */
function etagListMatches(header: string, etag: string, weak: boolean): boolean {
  if (header === "*") return true;
  let s = 0;
  const end = header.length;
  while (s < end) {
    if (weak && end - s > 2 && header[s] === "W" && header[s + 1] === "/") s += 2;
    if (etag.length > end - s) return false;
    if (header.startsWith(etag, s)) {
      let q = s + etag.length;
      while (q < end && (header[q] === " " || header[q] === "\t")) q++;
      if (q === end || header[q] === ",") return true;
    }
    while (s < end && header[s] !== ",") s++;
    while (s < end && (header[s] === " " || header[s] === ",")) s++;
  }
  return false;
}

/** Parses `bytes=...` as nginx does: ranges `[start, end)`, `"unsatisfiable"`, or `null` (serve it all). */
function parseRanges(spec: string, size: number): [number, number][] | "unsatisfiable" | null {
  const ranges: [number, number][] = [];
  let total = 0;
  let p = 6;
  const at = (i: number) => (i < spec.length ? spec[i] : "\0");
  const digit = (ch: string) => ch >= "0" && ch <= "9";
  for (;;) {
    let start = 0;
    let end = 0;
    let suffix = false;
    let found = false;
    while (at(p) === " ") p++;
    if (at(p) !== "-") {
      if (!digit(at(p))) return "unsatisfiable";
      while (digit(at(p))) start = start * 10 + Number(spec[p++]);
      while (at(p) === " ") p++;
      if (at(p++) !== "-") return "unsatisfiable";
      while (at(p) === " ") p++;
      if (at(p) === "," || at(p) === "\0") {
        end = size;
        found = true;
      }
    } else {
      suffix = true;
      p++;
    }
    if (!found) {
      if (!digit(at(p))) return "unsatisfiable";
      while (digit(at(p))) end = end * 10 + Number(spec[p++]);
      while (at(p) === " ") p++;
      if (at(p) !== "," && at(p) !== "\0") return "unsatisfiable";
      if (suffix) {
        start = end < size ? size - end : 0;
        end = size - 1;
      }
      end = end >= size ? size : end + 1;
    }
    if (start < end) {
      ranges.push([start, end]);
      total += end - start;
    } else if (start === 0) return null;
    if (at(p++) !== ",") break;
  }
  if (ranges.length === 0) return "unsatisfiable";
  if (total > size) return null;
  return ranges;
}

let boundaryCounter = 0;

/**
 * What {@link decoyStaticResponse} needs besides the request and the entry.
 *
 * @example
 * ```ts
 * import type { DecoyContext } from "@alknet/core/transport";
 * const c: DecoyContext = { scheme: "https", port: 443, localAddress: "192.0.2.1" };
 * console.log(c.port);
 * ```
 */
export interface DecoyContext {
  /** `http` or `https`, for redirects. */
  scheme: "http" | "https";
  /** The listening port (left out of redirects when it is the scheme's default). */
  port: number;
  /** The local address, for redirects of requests without a host. */
  localAddress: string;
}

/**
 * The response nginx's static module (with the index, not-modified and
 * range filters) gives for `req` when the path names `entry`.
 *
 * @example
 * ```ts
 * import { decoyStaticResponse, parseDecoyHead } from "@alknet/core/transport";
 * const r = parseDecoyHead(new TextEncoder().encode("POST / HTTP/1.1\r\nHost: x\r\n\r\n"));
 * if (r.kind === "request") {
 *   const file = { body: new Uint8Array(3), type: "text/html", mtime: new Date(0) };
 *   const res = decoyStaticResponse(r.request, { kind: "file", file }, { scheme: "https", port: 443, localAddress: "127.0.0.1" });
 *   console.log(res.status); // 405
 * }
 * ```
 */
export function decoyStaticResponse(
  req: DecoyRequest,
  entry: DecoyEntry,
  ctx: DecoyContext,
): DecoyResponse {
  const msie = isMsie(req);
  const m = req.method;
  if (m !== "GET" && m !== "HEAD" && m !== "POST") return decoyError(405, msie);
  if (entry === null) return decoyError(404, msie);
  if (entry.kind === "dir") {
    if (req.path.endsWith("/")) return decoyError(403, msie);
    const host = req.uriHost ?? hostOf(req.headers.get("host")?.[0]) ?? ctx.localAddress;
    const port = (ctx.scheme === "https" && ctx.port === 443) ||
        (ctx.scheme === "http" && ctx.port === 80)
      ? ""
      : `:${ctx.port}`;
    const args = req.args ? `?${req.args}` : "";
    return {
      ...decoyError(301, msie),
      location: `${ctx.scheme}://${host}${port}${req.path}/${args}`,
    };
  }
  if (m === "POST") return decoyError(405, msie);
  const file = entry.file;
  const etag = decoyEtag(file);
  const mtime = Math.floor(file.mtime.getTime() / 1000);
  const lastModified = new Date(mtime * 1000);
  const h = (name: string) => req.headers.get(name);
  const ius = h("if-unmodified-since")?.[0];
  if (ius !== undefined && !(parseDecoyDate(ius) >= mtime)) {
    return { ...decoyError(412, msie), closeAfter: true };
  }
  const ifMatch = h("if-match")?.[0];
  if (ifMatch !== undefined && !etagListMatches(ifMatch, etag, false)) {
    return { ...decoyError(412, msie), closeAfter: true };
  }
  const ims = h("if-modified-since")?.[0];
  const inm = h("if-none-match")?.[0];
  if (ims !== undefined || inm !== undefined) {
    const modified = ims !== undefined && parseDecoyDate(ims) !== mtime;
    const changed = inm !== undefined && !etagListMatches(inm, etag, true);
    if (!modified && !changed) {
      return {
        status: 304,
        lastModified,
        extra: [["ETag", etag]],
        body: new Uint8Array(0),
        noLength: true,
      };
    }
  }
  const full: DecoyResponse = {
    status: 200,
    contentType: file.type,
    lastModified,
    extra: [["ETag", etag], ["Accept-Ranges", "bytes"]],
    body: file.body,
  };
  const range = h("range")?.[0];
  if (req.version < 1000 || range === undefined || range.length < 7) return full;
  if (range.slice(0, 6).toLowerCase() !== "bytes=") return full;
  const ifRange = h("if-range")?.[0];
  if (ifRange !== undefined) {
    if (ifRange.length >= 2 && ifRange.endsWith('"')) {
      if (ifRange !== etag) return full;
    } else if (parseDecoyDate(ifRange) !== mtime) return full;
  }
  const size = file.body.length;
  const ranges = parseRanges(range, size);
  if (ranges === null) return full;
  if (ranges === "unsatisfiable") {
    return { ...decoyError(416, msie), extra: [["Content-Range", `bytes */${size}`]] };
  }
  if (ranges.length === 1) {
    const [s, e] = ranges[0];
    return {
      status: 206,
      contentType: file.type,
      lastModified,
      extra: [["ETag", etag], ["Content-Range", `bytes ${s}-${e - 1}/${size}`]],
      body: file.body.subarray(s, e),
    };
  }
  const boundary = String(++boundaryCounter).padStart(20, "0");
  const parts: Uint8Array[] = [];
  for (const [s, e] of ranges) {
    parts.push(enc.encode(
      `\r\n--${boundary}\r\nContent-Type: ${file.type}\r\nContent-Range: bytes ${s}-${
        e - 1
      }/${size}\r\n\r\n`,
    ));
    parts.push(file.body.subarray(s, e));
  }
  parts.push(enc.encode(`\r\n--${boundary}--\r\n`));
  const body = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
  let off = 0;
  for (const x of parts) {
    body.set(x, off);
    off += x.length;
  }
  return {
    status: 206,
    contentType: `multipart/byteranges; boundary=${boundary}`,
    lastModified,
    extra: [["ETag", etag]],
    body,
  };
}

function hostOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.startsWith("[")) {
    const end = value.indexOf("]");
    return value.slice(0, end + 1).toLowerCase();
  }
  const colon = value.indexOf(":");
  return (colon >= 0 ? value.slice(0, colon) : value).toLowerCase().replace(/\.$/, "");
}

/**
 * nginx's MSIE detection (the padding of error pages): "MSIE " with a few
 * characters after it, and not Opera.
 *
 * @example
 * ```ts
 * import { isMsie, parseDecoyHead } from "@alknet/core/transport";
 * const r = parseDecoyHead(new TextEncoder().encode("GET / HTTP/1.0\r\nUser-Agent: Mozilla/4.0 (compatible; MSIE 8.0)\r\n\r\n"));
 * console.log(r.kind === "request" && isMsie(r.request)); // true
 * ```
 */
export function isMsie(req: DecoyRequest): boolean {
  const ua = req.headers.get("user-agent")?.[0];
  if (ua === undefined || ua.includes("Opera")) return false;
  const at = ua.indexOf("MSIE ");
  return at >= 0 && at + 7 < ua.length;
}
