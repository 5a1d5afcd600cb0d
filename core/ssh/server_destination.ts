/**
 * The check of a `direct-tcpip` destination before anything else looks at
 * it (reserved names, restrictions, policy, the dial): the host must be a
 * host name or an IP literal and the port 1–65535. A numeric name that is
 * not a strict dotted quad (`127.1`, `0x7f000001`, `010.0.0.1`, `2130706433`)
 * is refused: the resolver would read it as an IPv4 address that the policy,
 * which parses addresses strictly, never saw. Internal to `SshServer`.
 *
 * @module
 */

import { parseIPv4, parseIPv6 } from "../transport/addr.ts";

/** Longest destination host, in bytes. */
export const MAX_DESTINATION_HOST = 255;

/** What is wrong with a destination; the log names this, never the destination. */
export type DestinationProblem =
  | "empty-host"
  | "host-too-long"
  | "host-control-or-space"
  | "host-not-name-or-ip"
  | "port-out-of-range";

// Letters, digits, `-` and `_` (seen in real names), 1–63 bytes per label.
const LABEL = /^[A-Za-z0-9_-]{1,63}$/;
// A part of an address as inet_aton reads it: decimal, octal or 0x-hex.
const LOOSE_IPV4_PART = /^(0x[0-9a-f]*|[0-9]+)$/i;
const DIGITS_AND_DOTS = /^[0-9.]+$/;
// An IPv6 zone (`fe80::1%eth0`): an interface name or number.
const ZONE = /^[A-Za-z0-9_.-]{1,16}$/;
const utf8 = new TextEncoder();

/** A C0 control, space, DEL, a C1 control, or any white space: nothing a host contains. */
function hasControlOrSpace(host: string): boolean {
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c <= 0x20 || (c >= 0x7f && c <= 0xa0)) return true;
  }
  return /\s/.test(host);
}

function utf8Length(host: string): number {
  for (let i = 0; i < host.length; i++) {
    if (host.charCodeAt(i) > 0x7f) return utf8.encode(host).length;
  }
  return host.length;
}

function isIPv6Literal(host: string): boolean {
  const pct = host.indexOf("%");
  if (pct >= 0 && !ZONE.test(host.slice(pct + 1))) return false;
  return parseIPv6(host) !== null;
}

function isHostName(host: string): boolean {
  const name = host.endsWith(".") ? host.slice(0, -1) : host;
  const labels = name.split(".");
  if (!labels.every((l) => LABEL.test(l))) return false;
  // 1–4 numeric parts: an address in a form the policy does not read.
  return !(labels.length <= 4 && labels.every((l) => LOOSE_IPV4_PART.test(l)));
}

/**
 * Why `host:port` is not a destination alknet dials, or `undefined` when it
 * is well formed (it may still be refused by policy).
 */
export function destinationProblem(host: string, port: number): DestinationProblem | undefined {
  if (!Number.isInteger(port) || port < 1 || port > 65535) return "port-out-of-range";
  if (host.length === 0) return "empty-host";
  if (utf8Length(host) > MAX_DESTINATION_HOST) return "host-too-long";
  if (hasControlOrSpace(host)) return "host-control-or-space";
  if (host.includes(":")) return isIPv6Literal(host) ? undefined : "host-not-name-or-ip";
  // Digits and dots must be a strict dotted quad (`127.1` is refused here,
  // not taken for a name).
  if (DIGITS_AND_DOTS.test(host)) {
    return parseIPv4(host) !== null ? undefined : "host-not-name-or-ip";
  }
  return isHostName(host) ? undefined : "host-not-name-or-ip";
}
