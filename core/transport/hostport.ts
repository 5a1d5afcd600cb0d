/**
 * `HOST:PORT` addresses: the one formatter (IPv6 literals in brackets) and
 * the one parser (`HOST:PORT`, `[IPv6]:PORT`, a bare `PORT` with a default
 * host), plus the pieces other `host:port`-shaped syntaxes (OpenSSH forward
 * specs, transport URLs) are built from.
 *
 * @module
 */

import { CoreError } from "../util/errors.ts";

/**
 * A `HOST:PORT` address or a forward spec (`[bind:]port:host:hostport`)
 * that cannot be parsed; the message quotes it and says which part is wrong.
 * Code `forward-spec`.
 *
 * @example
 * ```ts
 * import { ForwardSpecError, parseHostPort } from "@alknet/core/transport";
 * try {
 *   parseHostPort("no-port");
 * } catch (e) {
 *   console.log(e instanceof ForwardSpecError, (e as ForwardSpecError).code); // true "forward-spec"
 * }
 * ```
 */
export class ForwardSpecError extends CoreError {
  /** Creates the error. */
  constructor(message: string) {
    super("forward-spec", message);
    this.name = "ForwardSpecError";
  }
}

/**
 * Formats `host:port` with an IPv6 literal in brackets (`[::1]:22`), the
 * form logs, URLs and `HOST:PORT` arguments use.
 *
 * @example
 * ```ts
 * import { hostPort } from "@alknet/core/transport";
 * console.log(hostPort("::1", 22)); // "[::1]:22"
 * console.log(hostPort("example.com", 443)); // "example.com:443"
 * ```
 */
export function hostPort(host: string, port: number): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Splits `text` on `:` outside `[brackets]` (brackets are kept in the
 * parts); `null` when brackets are unbalanced or nested.
 *
 * @example
 * ```ts
 * import { splitHostPortList } from "@alknet/core/transport";
 * console.log(splitHostPortList("[::1]:8080:db:5432")); // ["[::1]", "8080", "db", "5432"]
 * console.log(splitHostPortList("[::1:22")); // null
 * ```
 */
export function splitHostPortList(text: string): string[] | null {
  const parts: string[] = [];
  let cur = "";
  let inside = false;
  for (const ch of text) {
    if (ch === "[") {
      if (inside) return null;
      inside = true;
    } else if (ch === "]") {
      if (!inside) return null;
      inside = false;
    } else if (ch === ":" && !inside) {
      parts.push(cur);
      cur = "";
      continue;
    }
    cur += ch;
  }
  if (inside) return null;
  parts.push(cur);
  return parts;
}

/**
 * Parses a decimal port number; `what` and `input` only shape the message.
 *
 * @throws {ForwardSpecError} when it is not a number in 1..65535 (0 too with `allowZero`)
 * @example
 * ```ts
 * import { parsePort } from "@alknet/core/transport";
 * console.log(parsePort("8080")); // 8080
 * console.log(parsePort("0", { allowZero: true })); // 0
 * ```
 */
export function parsePort(
  text: string,
  options: { allowZero?: boolean; what?: string; input?: string } = {},
): number {
  const what = options.what ?? "port";
  const input = options.input ?? text;
  if (!/^\d{1,5}$/.test(text)) {
    throw new ForwardSpecError(`${what} '${text}' in '${input}' is not a port number`);
  }
  const n = Number(text);
  if (n > 65535 || (n === 0 && !options.allowZero)) {
    throw new ForwardSpecError(`${what} ${n} in '${input}' is out of range (1-65535)`);
  }
  return n;
}

/**
 * Checks a host name or IP literal and removes IPv6 brackets; `what` and
 * `input` only shape the message.
 *
 * @throws {ForwardSpecError} when it is empty or cannot be a host
 * @example
 * ```ts
 * import { parseHost } from "@alknet/core/transport";
 * console.log(parseHost("[2001:db8::1]")); // "2001:db8::1"
 * console.log(parseHost("db.internal")); // "db.internal"
 * ```
 */
export function parseHost(
  text: string,
  options: { what?: string; input?: string } = {},
): string {
  const what = options.what ?? "host";
  const input = options.input ?? text;
  const h = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  if (h === "") throw new ForwardSpecError(`${what} is empty in '${input}'`);
  if (/[\s/\\@[\]]/.test(h) || (h.includes(":") && !/^[0-9a-fA-F:.]+(%[\w.-]+)?$/.test(h))) {
    throw new ForwardSpecError(`${what} '${text}' in '${input}' is not a host name or address`);
  }
  return h;
}

/**
 * Parses `HOST:PORT`, `[IPv6]:PORT`, or a bare `PORT` when `defaultHost`
 * is given. Port 0 is accepted (a listener picks one).
 *
 * @throws {ForwardSpecError} for anything else
 * @example
 * ```ts
 * import { parseHostPort } from "@alknet/core/transport";
 * console.log(parseHostPort("[::1]:2222")); // { host: "::1", port: 2222 }
 * console.log(parseHostPort("1080", "127.0.0.1")); // { host: "127.0.0.1", port: 1080 }
 * ```
 */
export function parseHostPort(text: string, defaultHost?: string): { host: string; port: number } {
  const parts = splitHostPortList(text);
  if (parts?.length === 1 && defaultHost !== undefined) {
    return { host: defaultHost, port: parsePort(parts[0], { input: text }) };
  }
  if (!parts || parts.length !== 2) {
    throw new ForwardSpecError(`address '${text}' must be HOST:PORT (IPv6 as [addr]:PORT)`);
  }
  return {
    host: parseHost(parts[0], { input: text }),
    port: parsePort(parts[1], { input: text, allowZero: true }),
  };
}
