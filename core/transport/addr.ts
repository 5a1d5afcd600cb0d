/**
 * Address and pattern helpers shared by `authorized_keys` `from=` and the
 * forwarding policy: IPv4/IPv6 literal parsing, CIDR blocks and OpenSSH-style
 * `*`/`?` wildcards. Pure functions; nothing here throws on hostile input
 * except the documented `parseCidr`.
 *
 * IP literals are parsed by `ipaddr.js`, with the strict forms alknet
 * accepts (four-part decimal IPv4 without leading zeros).
 *
 * @module
 */

import ipaddr from "ipaddr.js";

import { CoreError } from "../util/errors.ts";
/**
 * Thrown by {@link parseCidr} for a malformed CIDR block.
 *
 * @example
 * ```ts
 * import { CidrError, parseCidr } from "@alknet/core/transport";
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

const DOTTED_DIGITS = /^[0-9.]+$/;

/**
 * Parses an IPv4 dotted quad (strict: four decimal parts, no leading zeros)
 * into 4 bytes, or returns null.
 *
 * @example
 * ```ts
 * import { parseIPv4 } from "@alknet/core/transport";
 * console.log(parseIPv4("10.1.2.3")); // Uint8Array [10, 1, 2, 3]
 * console.log(parseIPv4("010.1.2.3")); // null
 * ```
 */
export function parseIPv4(s: string): Uint8Array | null {
  // ipaddr.js throws internally to say no to a host name (~13 µs): answer
  // anything that is not digits and dots here.
  if (s.length < 7 || s.length > 15 || !DOTTED_DIGITS.test(s)) return null;
  if (!ipaddr.IPv4.isValidFourPartDecimal(s)) return null;
  return Uint8Array.from(ipaddr.IPv4.parse(s).toByteArray());
}

/**
 * Parses an IPv6 literal (without brackets; a `%zone` suffix is ignored,
 * an embedded dotted IPv4 tail is allowed) into 16 bytes, or returns null.
 *
 * @example
 * ```ts
 * import { parseIPv6 } from "@alknet/core/transport";
 * console.log(parseIPv6("::1")?.[15]); // 1
 * ```
 */
export function parseIPv6(input: string): Uint8Array | null {
  if (input.length > 64 || !input.includes(":")) return null;
  const pct = input.indexOf("%");
  const s = pct >= 0 ? input.slice(0, pct) : input;
  const cut = s.lastIndexOf(":") + 1;
  const tail = s.slice(cut);
  let hex = s;
  if (tail.includes(".")) {
    // An embedded IPv4 tail must be a strict dotted quad, as everywhere else;
    // it is rewritten as two hex groups, because ipaddr.js reads `::a.b.c.d`
    // (IPv4-compatible) as `::ffff:a.b.c.d` (IPv4-mapped).
    if (!ipaddr.IPv4.isValidFourPartDecimal(tail)) return null;
    const b = ipaddr.IPv4.parse(tail).toByteArray();
    const group = (hi: number, lo: number) => ((hi << 8) | lo).toString(16);
    hex = `${s.slice(0, cut)}${group(b[0], b[1])}:${group(b[2], b[3])}`;
  }
  if (!ipaddr.IPv6.isValid(hex)) return null;
  return Uint8Array.from(ipaddr.IPv6.parse(hex).toByteArray());
}

/**
 * Parses an IP literal (IPv4, or IPv6 with or without brackets). IPv4-mapped
 * IPv6 addresses (`::ffff:a.b.c.d`) are returned as 4-byte IPv4.
 *
 * @example
 * ```ts
 * import { parseIp } from "@alknet/core/transport";
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
 * import { parseCidr } from "@alknet/core/transport";
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
 * import { parseCidr } from "@alknet/core/transport";
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
 * import { cidrContains, parseCidr } from "@alknet/core/transport";
 * console.log(cidrContains(parseCidr("10.0.0.0/8"), "10.9.8.7")); // true
 * ```
 */
export function cidrContains(cidr: Cidr, ip: string | Uint8Array): boolean {
  const a = typeof ip === "string" ? parseIp(ip) : ip;
  if (!a || a.length !== cidr.addr.length) return false;
  return ipaddr.fromByteArray(Array.from(a)).match(
    ipaddr.fromByteArray(Array.from(cidr.addr)),
    cidr.bits,
  );
}

/**
 * OpenSSH-style wildcard match: `*` matches any run of characters, `?` one
 * character; case-insensitive. Linear-time (no backtracking blow-up).
 *
 * @example
 * ```ts
 * import { wildcardMatch } from "@alknet/core/transport";
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
 * import { formatIp, parseIp } from "@alknet/core/transport";
 * console.log(formatIp(parseIp("0:0:0:0:0:0:0:1")!)); // ::1
 * ```
 */
export function formatIp(a: Uint8Array): string {
  const addr = ipaddr.fromByteArray(Array.from(a));
  return addr.kind() === "ipv6" ? (addr as ipaddr.IPv6).toRFC5952String() : addr.toString();
}
