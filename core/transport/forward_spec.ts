/**
 * OpenSSH-style forward specifications (`-L`/`-R` `[bind:]port:host:hostport`,
 * IPv6 in brackets) and `HOST:PORT` addresses.
 *
 * @module
 */

/** A parsed `[bind:]port:host:hostport` forward. */
export interface ForwardSpec {
  /** Address to listen on; `undefined` means the default (loopback). */
  bindHost?: string;
  /** Port to listen on (0 lets the system choose, for `-R`). */
  bindPort: number;
  /** Host to connect to at the other end (unbracketed). */
  host: string;
  /** Port to connect to at the other end. */
  hostPort: number;
}

/**
 * A forward spec or address that cannot be parsed; the message quotes it
 * and says what part is wrong.
 *
 * @example
 * ```ts
 * import { ForwardSpecError, parseForwardSpec } from "./forward_spec.ts";
 * try { parseForwardSpec("8080:web"); } catch (e) { console.log(e instanceof ForwardSpecError); }
 * ```
 */
export class ForwardSpecError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "ForwardSpecError";
  }
}

/** Splits on ':' outside of [brackets]; returns null on unbalanced brackets. */
function splitColons(spec: string): string[] | null {
  const parts: string[] = [];
  let cur = "";
  let depth = 0;
  for (const ch of spec) {
    if (ch === "[") {
      if (depth) return null;
      depth = 1;
    } else if (ch === "]") {
      if (!depth) return null;
      depth = 0;
    } else if (ch === ":" && !depth) {
      parts.push(cur);
      cur = "";
      continue;
    }
    cur += ch;
  }
  if (depth) return null;
  parts.push(cur);
  return parts;
}

function unbracket(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

function parsePort(text: string, what: string, spec: string, allowZero: boolean): number {
  if (!/^\d{1,5}$/.test(text)) {
    throw new ForwardSpecError(`${what} '${text}' in '${spec}' is not a port number`);
  }
  const n = Number(text);
  if (n > 65535 || (n === 0 && !allowZero)) {
    throw new ForwardSpecError(`${what} ${n} in '${spec}' is out of range (1-65535)`);
  }
  return n;
}

function checkHost(host: string, what: string, spec: string): string {
  const h = unbracket(host);
  if (h === "") throw new ForwardSpecError(`${what} is empty in '${spec}'`);
  if (/[\s/\\@]/.test(h) || (h.includes(":") && !/^[0-9a-fA-F:.%]+$/.test(h))) {
    throw new ForwardSpecError(`${what} '${host}' in '${spec}' is not a host name or address`);
  }
  return h;
}

/**
 * Parses OpenSSH's `[bind_address:]port:host:hostport`.
 *
 * @example
 * ```ts
 * import { parseForwardSpec } from "./forward_spec.ts";
 * console.log(parseForwardSpec("[::1]:8080:db.internal:5432"));
 * // { bindHost: "::1", bindPort: 8080, host: "db.internal", hostPort: 5432 }
 * ```
 */
export function parseForwardSpec(
  spec: string,
  options: { allowZeroBindPort?: boolean } = {},
): ForwardSpec {
  const parts = splitColons(spec);
  if (!parts) throw new ForwardSpecError(`unbalanced brackets in forward '${spec}'`);
  if (parts.length !== 3 && parts.length !== 4) {
    throw new ForwardSpecError(
      `forward '${spec}' must be [bind_address:]port:host:hostport (IPv6 addresses in brackets)`,
    );
  }
  const [bind, port, host, hostPort]: (string | undefined)[] = parts.length === 4
    ? parts
    : [undefined, ...parts];
  return {
    bindHost: bind === undefined || bind === "" ? undefined : checkHost(bind, "bind address", spec),
    bindPort: parsePort(port!, "listen port", spec, options.allowZeroBindPort ?? false),
    host: checkHost(host!, "target host", spec),
    hostPort: parsePort(hostPort!, "target port", spec, false),
  };
}

/**
 * Parses `HOST:PORT`, `[IPv6]:PORT`, or a bare `PORT` when `defaultHost` is
 * given.
 *
 * @example
 * ```ts
 * import { parseHostPort } from "./forward_spec.ts";
 * console.log(parseHostPort("[::1]:2222")); // { host: "::1", port: 2222 }
 * ```
 */
export function parseHostPort(text: string, defaultHost?: string): { host: string; port: number } {
  const parts = splitColons(text);
  if (parts?.length === 1 && defaultHost !== undefined) {
    return { host: defaultHost, port: parsePort(parts[0], "port", text, false) };
  }
  if (!parts || parts.length !== 2) {
    throw new ForwardSpecError(`address '${text}' must be HOST:PORT (IPv6 as [addr]:PORT)`);
  }
  return { host: checkHost(parts[0], "host", text), port: parsePort(parts[1], "port", text, true) };
}
