/**
 * Address and pattern helpers shared by `authorized_keys` `from=` and the
 * forwarding policy: IPv4/IPv6 literal parsing, CIDR blocks and OpenSSH-style
 * `*`/`?` wildcards. Pure functions; nothing here throws on hostile input
 * except the documented `parseCidr`.
 *
 * @module
 */

import { CoreError } from "../util/errors.ts";
/**
 * Thrown by {@link parseCidr} for a malformed CIDR block.
 *
 * @example
 * ```ts
 * import { CidrError, parseCidr } from "./addr.ts";
 * try {
 *   parseCidr("10.0.0.0/33");
 * } catch (e) {
 *   console.log(e instanceof CidrError); // true
 * }
 * ```
 */
export class CidrError extends CoreError {
  /** The offending text. */
  readonly pattern: string;
  /** Creates the error for `pattern`. */
  constructor(pattern: string, why: string) {
    super("cidr", `invalid CIDR '${pattern}': ${why}`);
    this.name = "CidrError";
    this.pattern = pattern;
  }
}

/**
 * Parses an IPv4 dotted quad (strict: four decimal parts, no leading zeros)
 * into 4 bytes, or returns null.
 *
 * @example
 * ```ts
 * import { parseIPv4 } from "./addr.ts";
 * console.log(parseIPv4("10.1.2.3")); // Uint8Array [10, 1, 2, 3]
 * ```
 */
export function parseIPv4(s: string): Uint8Array | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    out[i] = v;
  }
  return out;
}

/**
 * Parses an IPv6 literal (without brackets; a `%zone` suffix is ignored,
 * an embedded dotted IPv4 tail is allowed) into 16 bytes, or returns null.
 *
 * @example
 * ```ts
 * import { parseIPv6 } from "./addr.ts";
 * console.log(parseIPv6("::1")?.[15]); // 1
 * ```
 */
export function parseIPv6(input: string): Uint8Array | null {
  if (input.length > 64) return null;
  const pct = input.indexOf("%");
  const s = pct >= 0 ? input.slice(0, pct) : input;
  if (s.length < 2 || !s.includes(":")) return null;
  const dbl = s.indexOf("::");
  if (dbl >= 0 && s.indexOf("::", dbl + 1) >= 0) return null;
  const parseGroups = (part: string): number[] | null => {
    if (part === "") return [];
    const groups = part.split(":");
    const out: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      if (i === groups.length - 1 && g.includes(".")) {
        const v4 = parseIPv4(g);
        if (!v4) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  let words: number[];
  if (dbl >= 0) {
    const head = parseGroups(s.slice(0, dbl));
    const tail = parseGroups(s.slice(dbl + 2));
    if (!head || !tail) return null;
    if (head.length + tail.length > 7) return null;
    words = [...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const all = parseGroups(s);
    if (!all || all.length !== 8) return null;
    words = all;
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[i * 2] = words[i] >> 8;
    out[i * 2 + 1] = words[i] & 0xff;
  }
  return out;
}

/**
 * Parses an IP literal (IPv4, or IPv6 with or without brackets). IPv4-mapped
 * IPv6 addresses (`::ffff:a.b.c.d`) are returned as 4-byte IPv4.
 *
 * @example
 * ```ts
 * import { parseIp } from "./addr.ts";
 * console.log(parseIp("::ffff:127.0.0.1")?.length); // 4
 * console.log(parseIp("[::1]")?.length); // 16
 * console.log(parseIp("example.com")); // null
 * ```
 */
export function parseIp(s: string): Uint8Array | null {
  const v4 = parseIPv4(s);
  if (v4) return v4;
  const inner = s.startsWith("[") && s.endsWith("]") ? s.slice(1, -1) : s;
  const v6 = parseIPv6(inner);
  if (!v6) return null;
  let mapped = true;
  for (let i = 0; i < 10; i++) if (v6[i] !== 0) mapped = false;
  if (mapped && v6[10] === 0xff && v6[11] === 0xff) return v6.slice(12);
  return v6;
}

/**
 * A parsed CIDR block.
 *
 * @example
 * ```ts
 * import { parseCidr } from "./addr.ts";
 * const c = parseCidr("10.0.0.0/8");
 * console.log(c.bits); // 8
 * ```
 */
export interface Cidr {
  /** Network address bytes (4 or 16). */
  addr: Uint8Array;
  /** Prefix length. */
  bits: number;
}

/**
 * Parses `addr/bits` (IPv4 or IPv6, IPv6 optionally in brackets). Host bits
 * set in the address are ignored.
 *
 * @throws {CidrError} when the block is malformed.
 * @example
 * ```ts
 * import { parseCidr } from "./addr.ts";
 * console.log(parseCidr("fd00::/8").addr.length); // 16
 * ```
 */
export function parseCidr(s: string): Cidr {
  const slash = s.lastIndexOf("/");
  if (slash < 0) throw new CidrError(s, "missing '/bits'");
  const addrText = s.slice(0, slash);
  const bitsText = s.slice(slash + 1);
  const inner = addrText.startsWith("[") && addrText.endsWith("]")
    ? addrText.slice(1, -1)
    : addrText;
  const addr = parseIPv4(inner) ?? parseIPv6(inner);
  if (!addr) throw new CidrError(s, `'${addrText}' is not an IP address`);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(bitsText)) throw new CidrError(s, "prefix is not a number");
  const bits = Number(bitsText);
  if (bits > addr.length * 8) {
    throw new CidrError(s, `prefix /${bits} longer than ${addr.length * 8} bits`);
  }
  return { addr, bits };
}

/**
 * Whether IP literal `ip` (text, see {@link parseIp}) lies in `cidr`. An
 * IPv4-mapped IPv6 address matches IPv4 blocks.
 *
 * @example
 * ```ts
 * import { cidrContains, parseCidr } from "./addr.ts";
 * console.log(cidrContains(parseCidr("10.0.0.0/8"), "10.9.8.7")); // true
 * ```
 */
export function cidrContains(cidr: Cidr, ip: string | Uint8Array): boolean {
  const a = typeof ip === "string" ? parseIp(ip) : ip;
  if (!a || a.length !== cidr.addr.length) return false;
  let bits = cidr.bits;
  for (let i = 0; i < a.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((a[i] & mask) !== (cidr.addr[i] & mask)) return false;
  }
  return true;
}

/**
 * OpenSSH-style wildcard match: `*` matches any run of characters, `?` one
 * character; case-insensitive. Linear-time (no backtracking blow-up).
 *
 * @example
 * ```ts
 * import { wildcardMatch } from "./addr.ts";
 * console.log(wildcardMatch("192.168.?.*", "192.168.1.20")); // true
 * ```
 */
export function wildcardMatch(pattern: string, text: string): boolean {
  const p = pattern.toLowerCase();
  const t = text.toLowerCase();
  let pi = 0;
  let ti = 0;
  let star = -1;
  let mark = 0;
  while (ti < t.length) {
    if (pi < p.length && (p[pi] === "?" || (p[pi] !== "*" && p[pi] === t[ti]))) {
      pi++;
      ti++;
    } else if (pi < p.length && p[pi] === "*") {
      star = pi++;
      mark = ti;
    } else if (star >= 0) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === "*") pi++;
  return pi === p.length;
}

/**
 * Formats 4 or 16 address bytes as canonical text (IPv6 compressed per
 * RFC 5952).
 *
 * @example
 * ```ts
 * import { formatIp, parseIp } from "./addr.ts";
 * console.log(formatIp(parseIp("0:0:0:0:0:0:0:1")!)); // ::1
 * ```
 */
export function formatIp(a: Uint8Array): string {
  if (a.length === 4) return Array.from(a).join(".");
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((a[i * 2] << 8) | a[i * 2 + 1]);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (x: number[]) => x.map((v) => v.toString(16)).join(":");
  if (bestStart < 0) return hex(w);
  return hex(w.slice(0, bestStart)) + "::" + hex(w.slice(bestStart + bestLen));
}
