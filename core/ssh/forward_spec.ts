/**
 * OpenSSH-style forward specifications, as `ssh -L` and `ssh -R` take them:
 * `[bind_address:]port:host:hostport`, IPv6 literals in brackets.
 *
 * @module
 */

import {
  ForwardSpecError,
  parseHost,
  parsePort,
  splitHostPortList,
} from "../transport/hostport.ts";

/**
 * A parsed `[bind:]port:host:hostport` forward.
 *
 * @example
 * ```ts
 * import type { ForwardSpec } from "@alknet/core/ssh";
 * const f: ForwardSpec = { bindPort: 5432, host: "db.internal", hostPort: 5432 };
 * console.log(f.bindHost ?? "loopback"); // "loopback"
 * ```
 */
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
 * Parses OpenSSH's `[bind_address:]port:host:hostport`.
 *
 * @throws {ForwardSpecError} naming the part that is wrong
 * @example
 * ```ts
 * import { parseForwardSpec } from "@alknet/core/ssh";
 * console.log(parseForwardSpec("[::1]:8080:db.internal:5432"));
 * // { bindHost: "::1", bindPort: 8080, host: "db.internal", hostPort: 5432 }
 * ```
 */
export function parseForwardSpec(
  spec: string,
  options: { allowZeroBindPort?: boolean } = {},
): ForwardSpec {
  const parts = splitHostPortList(spec);
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
    bindHost: bind === undefined || bind === ""
      ? undefined
      : parseHost(bind, { what: "bind address", input: spec }),
    bindPort: parsePort(port!, {
      what: "listen port",
      input: spec,
      allowZero: options.allowZeroBindPort ?? false,
    }),
    host: parseHost(host!, { what: "target host", input: spec }),
    hostPort: parsePort(hostPort!, { what: "target port", input: spec }),
  };
}
