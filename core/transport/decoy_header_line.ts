/**
 * Header lines of the stealth decoy's HTTP/1.x parser, read the way nginx
 * 1.22 does (names with `_` or other bytes ignored, a NUL or a bare CR an
 * error), and nginx's check of a host name (`Host` or an absolute URI).
 *
 * @module
 */

import { CR, isAlpha, isCtl, isDigit, LF, SP } from "./decoy_http_chars.ts";

/** A header line: name (lower-case, `undefined` when nginx ignores it) and value. */
export interface HeaderScan {
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
export function scanHeaderLine(b: Uint8Array, from: number, end: number): HeaderScan {
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

/** nginx's Host check: the host part (lower-cased), or `null` for a host it refuses. */
export function validHost(value: string): string | null {
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
