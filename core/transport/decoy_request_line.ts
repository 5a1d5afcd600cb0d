/**
 * The request line of the stealth decoy's HTTP/1.x parser: a state machine
 * that reads `METHOD URI HTTP/x.y` the way nginx 1.22 does (which bytes are
 * errors, and that a bad byte is an error at once, before the line ends).
 * `parseDecoyHead` (`decoy_http.ts`) runs it first.
 *
 * @module
 */

import { CR, isAlpha, isCtl, isDigit, LF, SP } from "./decoy_http_chars.ts";

function isMethodChar(c: number): boolean {
  return (c >= 65 && c <= 90) || c === 95 || c === 45;
}

/** The end of a request line (`LF` index) or a verdict; parses as far as `end`. */
export interface LineScan {
  /** Index of the `LF` ending the line, or -1 when the bytes ran out. */
  lf: number;
  /** The status nginx answers with (400, or 505 for HTTP/2 and up as text). */
  error?: 400 | 505;
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
  | "literal"
  | "hostStart"
  | "host"
  | "ipLiteral"
  | "hostEnd"
  | "port"
  | "uri"
  | "http09"
  | "firstMajor"
  | "major"
  | "firstMinor"
  | "minor"
  | "spacesAfterDigit"
  | "almostDone";

const IP_LITERAL = /[0-9A-Za-z.:\-_~!$&'()*+,;=]/;
/** What follows `scheme:` and what follows the `H` of a version. */
const SLASHES = new TextEncoder().encode("//");
const TTP_SLASH = new TextEncoder().encode("TTP/");

/** Runs the request-line state machine from `from` to `end` (nginx 1.22's rules). */
export function scanRequestLine(
  b: Uint8Array,
  from: number,
  end: number,
): LineScan & { start: number } {
  let state: RlState = "start";
  let start = from;
  let methodEnd = 0;
  const out: LineScan & { start: number } = { lf: -1, start };
  let major = 0;
  let minor = 0;
  // The "literal" state: the bytes of `literal` from `k` on must follow, then `then`.
  let literal: Uint8Array = SLASHES;
  let k = 0;
  let then: RlState = "start";
  const expect = (bytes: Uint8Array, next: RlState): RlState => {
    literal = bytes;
    k = 0;
    then = next;
    return "literal";
  };
  const fail = (status: 400 | 505) => {
    out.error = status;
    return out;
  };
  const uriEnded = (p: number) => {
    out.uriEnd = p;
  };
  /**
   * After the host or its port: `:` starts (or continues) the port, `/` or
   * `?` starts the path, a space ends an absolute URI without a path
   * ("GET http://host HTTP/1.1": the path is "/"); anything else is an error.
   */
  const afterHost = (c: number, p: number): RlState | undefined => {
    if (c === 0x3a) return "port";
    if (c === 0x2f || c === 0x3f) {
      out.uriStart = p;
      return "uri";
    }
    if (c !== SP) return undefined;
    out.uriStart = -1;
    uriEnded(p);
    return "http09";
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
        if (c === 0x3a) state = expect(SLASHES, "hostStart");
        else if (!(isAlpha(c) || isDigit(c) || c === 0x2b || c === 0x2d || c === 0x2e)) {
          return fail(400);
        }
        continue;
      case "literal":
        if (c !== literal[k]) return fail(400);
        if (++k === literal.length) state = then;
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
      // falls through (c is not a digit)
      case "port":
        if (isDigit(c)) continue;
      // falls through
      case "hostEnd": {
        const next = afterHost(c, p);
        if (next === undefined) return fail(400);
        state = next;
        continue;
      }
      case "ipLiteral":
        if (c === 0x5d) {
          out.hostEnd = p + 1;
          state = "hostEnd";
        } else if (!IP_LITERAL.test(String.fromCharCode(c))) return fail(400);
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
        } else if (c === 0x48) state = expect(TTP_SLASH, "firstMajor");
        else return fail(400);
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
